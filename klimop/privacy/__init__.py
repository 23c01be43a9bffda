"""Privacy: what each parent allows for photos and data, per child and purpose (AVG/GDPR)."""
