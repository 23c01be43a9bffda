"""Posts have no admin pages: staff write and manage them in the staff pages of the portal,
where the access rules and the school's agreements apply."""
