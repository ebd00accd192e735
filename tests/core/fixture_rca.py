"""A copy of the shared fleet-repo's hand-written RCA, so the parser tests run without the shared folder."""

FIXTURE_RCA = """# RCA: Gateway auth outage

- **Severity:** SEV-2
- **Declared:** 2026-02-23 06:10 UTC
- **Resolved:** 2026-02-23 08:45 UTC
- **Commander:** @matt

## Timeline

| Time (UTC) | Event |
|------------|-------|
| 06:10 | Watchdog reports 6/10 agents failing with `401 Unauthorized` from the gateway. |
| 06:25 | Incident declared as SEV-2. |
| 07:05 | Found `auth-profiles.json` missing from the gateway host after the 05:50 redeploy. |
| 08:30 | File restored from backup; gateway restarted. |
| 08:45 | All 10 agents green; incident resolved. |

## Root cause(s)

- The redeploy script recreated the gateway config folder and did not copy `auth-profiles.json`.
- No startup check verified that auth profiles were present.

## Resolution

Restored `auth-profiles.json` from the nightly backup and restarted the gateway.

## Lessons learned

- Config files that live outside the repo are lost on redeploy.
- The watchdog noticed the failures, but nothing paged a human for 15 minutes.

## Action items

| # | Action | Owner | Status |
|---|--------|-------|--------|
| 1 | Move `auth-profiles.json` into the deploy bundle | @cto | ✅ DONE |
| 2 | Add a gateway startup check for auth profiles | @cto | ✅ DONE |
| 3 | Page a human when 3+ agents fail within 10 minutes | @matt | Open |
| 4 | Update the redeploy runbook with a config checklist | @docs | In progress |
"""
