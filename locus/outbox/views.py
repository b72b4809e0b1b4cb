"""Staff pages for webhook endpoints and their delivery logs."""
