package handlers

import "github.com/chromedp/chromedp"

// signIn signs in on the login page and waits for the home page.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.run("sign in", chromedp.Navigate(b.base+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`#login form button.primary`)), chromedp.WaitVisible(chromedp.CSS("#home-page")))
}
