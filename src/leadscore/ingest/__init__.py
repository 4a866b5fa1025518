"""Loading landing files into the raw schema: idempotent, line-accounted, with quarantine."""
