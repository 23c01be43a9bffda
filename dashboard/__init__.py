"""The parent's home and the staff dashboard: every feature's cards on one page."""
