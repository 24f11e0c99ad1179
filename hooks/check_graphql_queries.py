"""Copy-time check of a GraphQL connector's queries: each must parse with graphql-core.

Copier runs this in the new project right after rendering it (`_tasks` in copier.yml); a syntax error stops the copy
with the parser's own message and Copier removes the half-made project. It is idempotent, so it is safe in the
three runs of a `copier update`.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def main(project: Path) -> int:
    try:
        import graphql
    except ImportError:
        print(
            "graphql_query: cannot check the query because graphql-core is not installed next to Copier; "
            "install it (pip install graphql-core==3.2.14, or pipx inject copier graphql-core) and copy again",
            file=sys.stderr,
        )
        return 1
    sys.path.insert(0, str(project))  # graphql_queries.py imports the project's streams.py
    queries = runpy.run_path(str(project / "graphql_queries.py"))["QUERIES"]
    for query in queries:
        try:
            document = graphql.parse(query.text)
        except graphql.GraphQLError as error:
            print(
                f"graphql_query ({query.table}): not valid GraphQL: {error.message} {error.locations}", file=sys.stderr
            )
            return 1
        operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].operation != graphql.OperationType.QUERY:
            print(f"graphql_query ({query.table}): give exactly one query operation", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
