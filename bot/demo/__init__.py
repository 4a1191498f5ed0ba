"""`partnerbot demo`: the real product driven end to end, offline, against local stand-ins
for Slack (its Web API and response URLs), SMTP, and the local CRM. The stand-ins are the
same ones the test suite runs against."""
