package handlers

import "github.com/gofiber/fiber/v2"

// maxListPage bounds ?page= (past it the row offset would overflow).
const maxListPage = 1 << 30

// listPage reads ?page= of the contact list, the inbox, the message log and
// participation across polls like every list of the app (pageParam):
// absent, not a number or under 1 is page 1; it is also bounded so that the
// row offset cannot overflow. The caller then keeps it within the pages
// there are (lastPage).
func listPage(c *fiber.Ctx) int {
	return min(pageParam(c), maxListPage)
}

// lastPage is the last page of total rows (1 when there are none): a page
// past it shows the last page's rows under the last page's number — never
// an empty list that says there is nothing, nor one page's rows under
// another's number.
func lastPage(total int) int { return max(1, (total+perPage-1)/perPage) }
