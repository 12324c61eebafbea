"""Reports: stored counters kept current on every enrolment event, tenant and national dashboards."""
