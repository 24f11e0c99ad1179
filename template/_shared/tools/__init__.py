"""Development tooling behind tasks.py: local syncs and checks, verification SQL, deployment to Fivetran.

None of this is deployed: `invoke deploy` packages only the connector's own modules.
"""
