"""Email: outbound SMTP, inbound IMAP/pipe pipeline, reply parsing and sender authentication."""
