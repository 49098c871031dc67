"""The invoice portal's pages. Thin: every read is a selector, every write a service; each response
carries the portal's security headers (portal_response).

Modules: pages (what a link opens, the customer's actions), signup (direct debit), provider (the test
payment provider), common."""
