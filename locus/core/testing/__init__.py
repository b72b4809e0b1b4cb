"""Test helpers shared by every app's tests."""

# What one rate-limited request adds to a query budget inside a test's transaction: the read
# of the counts and the count, each in a savepoint (SAVEPOINT, statement, RELEASE). Outside a
# transaction, as when served, it is the read and a one-statement write transaction.
RATE_COUNT_QUERIES = 6
