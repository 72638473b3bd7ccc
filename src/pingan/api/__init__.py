"""HTTP plumbing shared by every domain's router: sessions, auth, problems, metrics."""
