// Package webtest drives CareCircle's web app in headless Chromium against a
// whole CareCircle process (API, pages, realtime and background work) on a
// temporary SQLite database: the journeys a family takes in the browser,
// live updates between two members, the offline queue, and the screenshots
// of the documentation. Its tests skip when Chromium is not installed,
// unless CARECIRCLE_TEST_REQUIRE_SERVICES=1.
package webtest
