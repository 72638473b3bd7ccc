"""Operations: backup and restore, retention and purges, access requests, the job runner."""
