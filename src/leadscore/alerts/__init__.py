"""SLA alerts: at-risk SLAs to their owner, breaches to owner and manager."""
