"""Checks of graphfold's query API for schemathesis (loaded through SCHEMATHESIS_HOOKS by test/fuzz/query-fuzz.ts)."""
import schemathesis


@schemathesis.check
def no_server_error(ctx, response, case):
    """No 5xx but the two the API documents: 503 with Retry-After (a partition restoring or moving) and 504 (a read-your-writes wait that timed out)."""
    status = response.status_code
    if status < 500:
        return
    body = {}
    try:
        body = response.json()
    except Exception:
        pass
    error = body.get("error") if isinstance(body, dict) else None
    if status == 503 and "retry-after" in {k.lower() for k in response.headers} and error in ("restoring", "unavailable", "too_many_streams"):
        return
    if status == 504 and error == "timeout":
        return
    raise AssertionError(f"server error {status}: {response.text[:300]}")


@schemathesis.check
def error_bodies_explain(ctx, response, case):
    """Every 4xx/5xx answer is {error, message} JSON without a stack trace."""
    if response.status_code < 400:
        return
    body = response.json()
    if not (isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)):
        raise AssertionError(f"error answer without error and message: {response.text[:300]}")
    if " at " in response.text and (".js:" in response.text or ".ts:" in response.text):
        raise AssertionError(f"a stack trace in an answer: {response.text[:300]}")
