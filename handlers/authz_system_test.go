package handlers

// Authorization matrix entry of the System page: superusers only.
func init() {
	addMatrix(map[string]Access{
		"GET /manage/system/": {Anon: 303, SupA: 403, SupB: 403, Admin: 403, OtherAdmin: 403, Super: 200},
	})
}
