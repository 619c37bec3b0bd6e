package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// maxListPage bounds ?page= of the lists below (past it the row offset
// would overflow).
const maxListPage = 1 << 30

// listPage reads ?page= of the contact list, the inbox, the message log and
// participation across polls strictly, as the original's paginator did:
// absent is page 1; anything but a whole number from 1 up is a page that
// does not exist (404), never silently another page.
func listPage(c *fiber.Ctx) (int, error) {
	v := c.Query("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxListPage {
		return 0, fiber.ErrNotFound
	}
	return n, nil
}

// pageExists is a 404 for a page past the last one of total rows (page 1
// always exists, if only to say the list is empty).
func pageExists(page, total int) error {
	if page > 1 && (page-1)*perPage >= total {
		return fiber.ErrNotFound
	}
	return nil
}
