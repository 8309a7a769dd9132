#!/bin/sh
# The "test suite": checks that the dependencies answer, then exits with the number of
# failures (plus EXPECTED_FAILURES, to let CI exercise the failing path).
failures=${EXPECTED_FAILURES:-0}
check() {
    if timeout 5 sh -c "echo ping | nc $1 $2" | grep -q ok; then
        echo "ok   - $1:$2 answers"
    else
        echo "FAIL - $1:$2 does not answer"
        failures=$((failures + 1))
    fi
}
check "${DB_HOST:-db}" 5432
check "${QUEUE_HOST:-queue}" 5672
echo "$failures failure(s)"
exit "$failures"
