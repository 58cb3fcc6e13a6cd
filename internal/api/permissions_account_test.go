package api

import "testing"

// The account data routes are the caller's own: every signed-in user may
// export their data, family or not.
func TestPermissionMatrixAccountData(t *testing.T) {
	t.Parallel()
	runMatrix(t, []matrixCase{
		{"export", "GET", path("/user/export"), signedIn(200)},
		{"export download", "GET", path("/user/export/download"), signedIn(200)},
	})
}

// Deleting an account ends it, so every call gets its own server and
// accounts (runMatrix shares the accounts between calls). Anyone signed in
// may delete their own account, except the last ADMIN of a family that has
// other members: the fixture's ADMIN is.
func TestPermissionMatrixDeleteAccount(t *testing.T) {
	t.Parallel()
	runIsolatedMatrix(t, []matrixCase{
		{"delete account", "DELETE", path("/user/delete-account"), statuses{401, 200, 200, 200, 409}},
	})
}

// runIsolatedMatrix is runMatrix with a fresh server, accounts and fixture
// for every call.
func runIsolatedMatrix(t *testing.T, cases []matrixCase) {
	t.Helper()
	for _, tc := range cases {
		for c := caller(0); c < callerCount; c++ {
			h := sqliteHarness(t, harnessOptions{})
			f := newFixture(t, h, newMatrixUsers(h))
			p, body := tc.request(f)
			res := h.request(tc.method, p, f.token(c), body)
			if res.Status != tc.want[c] {
				t.Errorf("%s %s (%s) as %s: status %d, want %d: %s", tc.method, p, tc.name, c, res.Status, tc.want[c], res.Body)
			}
		}
	}
}
