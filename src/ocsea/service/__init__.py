"""The HTTP service: real-time query check, analyst API, accounts, roles and the audit trail."""
