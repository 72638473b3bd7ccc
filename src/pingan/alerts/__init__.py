"""Early-warning alerts: daily runs of the scan and aberration methods, alert lifecycle."""
