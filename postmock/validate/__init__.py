"""`postmock validate`: schema checks, mock-readiness lints, and their report."""
