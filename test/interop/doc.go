// Package interop proves that the official JavaScript client talks to the
// Switchboard server unchanged: its tests start purpose-built servers
// in-process and drive the real socket.io-client (Node, js/client.mjs) and a
// real browser (Chromium through playwright-core, js/browser.mjs), asserting
// what both sides observe. The chat tests run the real chat program
// (cmd/switchboard) as a child process and drive it the same way.
//
// The npm packages are pinned in package.json and installed by
// `scripts/deps.sh all`; Chromium is Debian's (/usr/bin/chromium), and so
// is HAProxy (/usr/sbin/haproxy), the load balancer in front of two servers
// in the sticky-session test. The package has no non-test code.
package interop
