"""Domain services: transport-free rules that Slack handlers, mail and the scheduler all call."""
