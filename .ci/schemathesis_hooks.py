"""Schemathesis hooks for CI: inputs for this schema's own scalars, and the promise checked —
no 5xx response, and no GraphQL error with the INTERNAL code (an internal error is a bug even
when the HTTP status is 200). Refusals with other codes are answers, not failures."""
import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# Money in minor units, within what the API accepts and a little beyond (refusals included).
schemathesis.graphql.scalar("Cents", st.integers(min_value=-10, max_value=2**53).map(nodes.Int))


@schemathesis.check
def no_server_error_or_internal_code(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except Exception:  # not JSON: a 5xx would have been caught above
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or []:
        code = ((error or {}).get("extensions") or {}).get("code")
        if code == "INTERNAL":
            raise AssertionError(f"INTERNAL error: {error.get('message')}")
    return None
