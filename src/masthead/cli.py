"""The `masthead` command (ARCHITECTURE.md "CLI"; scripts depend on its shape)."""

from __future__ import annotations

import asyncio
import fcntl
import getpass
import shlex
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from masthead import __version__, logs
from masthead.config import Settings, load_settings
from masthead.platforms.base import ConnectedAccount, PublishError
from masthead.platforms.registry import AVAILABLE, SPECS, TARGET_TYPES, build_publishers
from masthead.private_files import private_dir
from masthead.security import Secrets, hash_password
from masthead.services import oauth, web_auth
from masthead.services.connections import connect_account
from masthead.store import accounts, users
from masthead.store import backup as backups
from masthead.store.database import Database
from masthead.store.migrate import upgrade
from masthead.timeutil import utcnow

T = TypeVar("T")

app = typer.Typer(
    help="Masthead: self-hosted publishing that speaks the Blotato v2 API.",
    no_args_is_help=True,
    add_completion=False,
)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
accounts_app = typer.Typer(help="Manage connected accounts.", no_args_is_help=True)


def _print_version(wanted: bool) -> None:
    if wanted:
        out.print(f"masthead {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print it, exit"),
    ] = False,
) -> None:
    """Options that come before any command."""


app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(accounts_app, name="accounts")

out = Console()
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    return typer.Exit(code=1)


def _with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(settings.sqlalchemy_url)
        await db.start()
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def _migrate(settings: Settings) -> None:
    private_dir(settings.data_dir)
    upgrade(settings.sqlalchemy_url)


@app.command()
def migrate() -> None:
    """Apply database migrations (serve does this too)."""
    settings = load_settings()
    _migrate(settings)
    out.print("database is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind", envvar="MASTHEAD_HOST")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="port to bind", envvar="MASTHEAD_PORT")] = 8000,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="API only (scale-out)")] = False,
) -> None:
    """Run the API, with the dispatch worker inside unless --no-worker."""
    import uvicorn

    from masthead.api.protocol import BodyProtocol
    from masthead.app import create_app

    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)
    if no_worker and settings.is_sqlite:
        raise _fail(
            "--no-worker needs PostgreSQL (MASTHEAD_DATABASE_URL): on SQLite the worker must "
            "run inside the one serve process"
        )
    lock = _single_process_lock(settings)
    _migrate(settings)
    _with_db(settings, lambda db: _first_start(db, settings, host, port))
    uvicorn.run(
        create_app(settings, run_worker=not no_worker),
        host=host,
        port=port,
        workers=1,
        http=BodyProtocol,
        log_config=None,
        access_log=False,
        # X-Forwarded-For/-Proto are believed only from the proxies the operator names.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    del lock  # held until uvicorn returns


def _single_process_lock(
    settings: Settings,
    busy: str = "SQLite mode is one process (use PostgreSQL to run several)",
) -> IO[str] | None:
    """SQLite mode is one process: a second `serve` (or a restore) on the same data dir is
    refused while one runs."""
    if not settings.is_sqlite:
        return None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handle = (settings.data_dir / "serve.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _fail(f"another `masthead serve` is running on {settings.data_dir}; {busy}") from None
    return handle


@app.command("mcp")
def mcp_stdio(
    api_key: Annotated[
        str,
        typer.Option(envvar="MASTHEAD_API_KEY", help="your Masthead API key", show_default=False),
    ] = "",
    server: Annotated[
        str | None,
        typer.Option(help="the running Masthead to forward to [default: MASTHEAD_PUBLIC_URL]"),
    ] = None,
) -> None:
    """Serve the MCP tools over stdio for a local agent, forwarding to a running server."""
    from masthead.mcp.stdio import Unreachable, serve

    if not api_key:
        raise _fail("give an API key: --api-key or MASTHEAD_API_KEY")
    try:
        asyncio.run(serve(server or load_settings().public_url, api_key))
    except Unreachable as exc:
        raise _fail(str(exc)) from None


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="a new (or empty) directory to write it to")],
) -> None:
    """Copy the SQLite database (online: the server keeps running), local media and the
    secret key into PATH. PostgreSQL: use pg_dump (docs/operations.md)."""
    settings = load_settings()
    if not settings.is_sqlite:
        raise _fail(
            "the database is PostgreSQL: back it up with `pg_dump --format=custom` (and media on "
            "S3 with your bucket's versioning or `aws s3 sync`); see docs/operations.md"
        )
    try:
        summary = backups.backup(settings.sqlalchemy_url, settings.data_dir, path, utcnow())
    except backups.BackupError as exc:
        raise _fail(str(exc)) from None
    out.print(
        f"backed up {summary.database_bytes:,} bytes of database, {summary.media_files} media "
        f"file(s){' and the secret key' if summary.secret_key else ''} to {summary.path}",
        highlight=False,
        soft_wrap=True,
    )
    if settings.media_store != "local":
        err.print(f"media in {settings.media_store} is not in the backup: back the bucket up")
    if settings.secret_key:
        err.print("MASTHEAD_SECRET_KEY is set: keep its value with the backup (tokens need it)")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="a directory written by `masthead backup`")],
) -> None:
    """Put a backup in place of this data dir's (stop the server first); the replaced files
    are moved to DATA_DIR/before-restore-<time>/."""
    settings = load_settings()
    if not settings.is_sqlite:
        raise _fail("the database is PostgreSQL: restore it with `pg_restore` (docs/operations.md)")
    lock = _single_process_lock(
        settings, "stop it first (`systemctl stop masthead`, `docker compose stop`), then restore"
    )
    try:
        summary = backups.restore(path, settings.sqlalchemy_url, settings.data_dir, utcnow())
    except backups.BackupError as exc:
        raise _fail(str(exc)) from None
    del lock
    if summary.moved_aside is not None:
        out.print(f"the data it replaced is in {summary.moved_aside}", highlight=False)
    out.print(
        f"restored {summary.database_bytes:,} bytes of database and {summary.media_files} media "
        f"file(s) into {summary.path}; start the server (it applies any newer migrations)",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def worker() -> None:
    """Run the dispatch worker only (scale-out, PostgreSQL)."""
    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)
    if settings.is_sqlite:
        raise _fail("a separate worker needs PostgreSQL; on SQLite `masthead serve` runs it")
    _migrate(settings)
    from masthead.dispatch.runner import run_worker

    asyncio.run(run_worker(settings))


async def _first_start(db: Database, settings: Settings, host: str, port: int) -> None:
    """On the very first start, make a user, a key and a webhook account, and say how to post."""
    if await db.read(users.count_users):
        return
    secrets = Secrets(settings.secret_keys)
    key = secrets.new_api_key()
    now = utcnow()

    def bootstrap(conn: Connection) -> int:
        user = users.create_user(conn, secrets, email="admin@localhost", name="Admin", now=now)
        users.add_api_key(
            conn, user_id=user.id, name="default", prefix=key.prefix, digest=key.digest, now=now
        )
        return accounts.add_account(
            conn,
            user_id=user.id,
            platform="webhook",
            external_id="webhook",
            username="webhook",
            fullname="Webhook",
            now=now,
        )

    account_id = await db.write(bootstrap)
    # A wildcard bind is reached on loopback from this machine.
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    body = orjson.dumps(
        {
            "post": {
                "accountId": str(account_id),
                "content": {"text": "Hello from Masthead", "mediaUrls": [], "platform": "other"},
                "target": {"targetType": "webhook", "url": "https://example.com/your-webhook"},
            }
        }
    ).decode()
    out.print("\n[bold]Masthead is set up.[/bold] Your API key (shown once, keep it):\n")
    out.print(f"  {key.key}\n", highlight=False, soft_wrap=True)
    out.print("A first post (replace the URL with your own webhook receiver):\n")
    out.print(
        f"  curl -s {base}/v2/posts -H 'blotato-api-key: {key.key}' "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}\n",
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"Settings UI: {base}/login (sign in as admin@localhost). Give it a password:\n")
    out.print(
        f"  {_own_command()} users set-password --email admin@localhost\n",
        highlight=False,
        soft_wrap=True,
    )


def _own_command() -> str:
    """How the operator runs this same `masthead` from their shell: the bare name when it is
    on PATH (a container, an installed wheel), else the venv's script (`.venv/bin/masthead`)."""
    script = Path(sys.executable).with_name("masthead")
    on_path = shutil.which("masthead")
    if not script.exists() or (on_path and Path(on_path).resolve() == script.resolve()):
        return "masthead"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="the user's email (their sign-in name)")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    password: Annotated[
        str | None, typer.Option(help="for the web UI; prompted if omitted")
    ] = None,
    no_password: Annotated[bool, typer.Option("--no-password", help="API keys only")] = False,
) -> None:
    """Create a user; prints the user id."""
    settings = load_settings()
    _migrate(settings)
    if password is None and not no_password and sys.stdin.isatty():
        password = getpass.getpass("Password (empty for none): ") or None
    hashed = hash_password(password) if password else None
    secrets = Secrets(settings.secret_keys)

    async def create(db: Database) -> str:
        user = await db.write(
            lambda c: users.create_user(
                c, secrets, email=email, name=name, now=utcnow(), password_hash=hashed
            )
        )
        return user.id

    try:
        user_id = _with_db(settings, create)
    except IntegrityError:
        raise _fail(f"a user with email {email} already exists") from None
    out.print(user_id, highlight=False)


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Option(help="the user's email")],
    password: Annotated[str | None, typer.Option(help="prompted if omitted")] = None,
) -> None:
    """Set or change a user's web UI password (argon2id); signs them out everywhere."""
    settings = load_settings()
    _migrate(settings)
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise _fail("the password cannot be empty")
    chosen = password
    if not _with_db(settings, lambda db: web_auth.set_password(db, email, chosen)):
        raise _fail(f"no user with email {email}")
    out.print(f"password set for {email}", highlight=False)


def _require_user(db: Database, email: str) -> Callable[[], Awaitable[users.UserRow]]:
    async def find() -> users.UserRow:
        user = await db.read(lambda conn: users.user_by_email(conn, email))
        if user is None:
            raise _fail(f"no user with email {email}")
        return user

    return find


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option(help="the owner's email")],
    name: Annotated[str, typer.Option(help="a label for the key")] = "",
) -> None:
    """Create an API key; prints it as the last line (it is not shown again)."""
    settings = load_settings()
    _migrate(settings)
    secrets = Secrets(settings.secret_keys)
    key = secrets.new_api_key()

    async def create(db: Database) -> None:
        owner = await _require_user(db, user)()
        await db.write(
            lambda c: users.add_api_key(
                c,
                user_id=owner.id,
                name=name,
                prefix=key.prefix,
                digest=key.digest,
                now=utcnow(),
            )
        )

    _with_db(settings, create)
    out.print(key.key, highlight=False, soft_wrap=True)


@keys_app.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="the key's prefix (blt_ + 8)")]) -> None:
    """Revoke every active key with this prefix."""
    settings = load_settings()
    _migrate(settings)
    count = _with_db(
        settings, lambda db: db.write(lambda c: users.revoke_keys(c, prefix, utcnow()))
    )
    if not count:
        raise _fail(f"no active key with prefix {prefix}")
    out.print(f"revoked {count} key(s)")


@accounts_app.command("add")
def accounts_add(
    user: Annotated[str, typer.Option(help="the owner's email")],
    platform: Annotated[str, typer.Option(help=", ".join(TARGET_TYPES))],
    username: Annotated[str | None, typer.Option(help="the account's handle")] = None,
    external_id: Annotated[
        str | None, typer.Option(help="the platform's id for the account")
    ] = None,
    fullname: Annotated[str, typer.Option(help="display name")] = "",
    subaccount: Annotated[
        list[str] | None,
        typer.Option(help="ID=NAME of a page, board, organization or playlist (repeatable)"),
    ] = None,
    access_token: Annotated[str | None, typer.Option(help="OAuth access token")] = None,
    refresh_token: Annotated[str | None, typer.Option(help="OAuth refresh token")] = None,
    expires_at: Annotated[str | None, typer.Option(help="access token expiry (ISO 8601)")] = None,
    handle: Annotated[str | None, typer.Option(help="Bluesky handle")] = None,
    app_password: Annotated[str | None, typer.Option(help="Bluesky app password")] = None,
    service: Annotated[str | None, typer.Option(help="Bluesky PDS URL")] = None,
) -> None:
    """Add an account; prints its id (the numeric accountId the API wants)."""
    if platform not in TARGET_TYPES:
        raise _fail(f"--platform must be one of {', '.join(TARGET_TYPES)}")
    spec = SPECS[platform]
    if spec.connect == "none":
        username, external_id = username or "webhook", external_id or "webhook"
    credentials: dict[str, Any] = {
        k: v
        for k, v in {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_at": expires_at,
            "handle": handle,
            "app_password": app_password,
            "service": service,
        }.items()
        if v
    }
    if not (username and external_id):
        _connect_from_credentials(user, platform, credentials)
        return
    subs: list[tuple[str, str]] = []
    for item in subaccount or []:
        sub_id, sep, sub_name = item.partition("=")
        if not sep or not sub_id:
            raise _fail(f"--subaccount {item!r} must be ID=NAME")
        subs.append((sub_id, sub_name))
    kind = spec.subaccount.kind if spec.subaccount else "page"
    settings = load_settings()
    _migrate(settings)
    secrets = Secrets(settings.secret_keys)
    sealed = secrets.encrypt(orjson.dumps(credentials).decode()) if credentials else None

    async def add(db: Database) -> int:
        owner = await _require_user(db, user)()

        def store(conn: Connection) -> int:
            now = utcnow()
            account_id = accounts.add_account(
                conn,
                user_id=owner.id,
                platform=platform,
                external_id=external_id or "",
                username=username or "",
                fullname=fullname or username or "",
                now=now,
                credentials=sealed,
            )
            for sub_id, sub_name in subs:
                accounts.add_subaccount(
                    conn, account_id=account_id, kind=kind, external_id=sub_id, name=sub_name
                )
            accounts.announce_connected(conn, owner.id, account_id, now)
            return account_id

        return await db.write(store)

    try:
        account_id = _with_db(settings, add)
    except IntegrityError:
        raise _fail(f"{user} already has this {platform} account") from None
    out.print(str(account_id), highlight=False)


def _connect_from_credentials(user: str, platform: str, credentials: dict[str, Any]) -> None:
    """Ask the platform whose credentials these are, as an OAuth callback does."""
    settings = load_settings()
    if platform not in AVAILABLE:
        raise _fail(
            f"pass --username and --external-id: looking the account up from its credentials "
            f"needs the {platform} publisher, which this server does not have yet"
        )
    _migrate(settings)
    secrets = Secrets(settings.secret_keys)

    async def connect(db: Database) -> tuple[int, ConnectedAccount]:
        owner = await _require_user(db, user)()
        publishers = build_publishers(settings)
        try:
            return await connect_account(
                db, secrets, publishers[platform], user_id=owner.id, credentials=credentials
            )
        except PublishError as exc:
            raise _fail(f"{platform} refused the credentials: {exc.message}") from None
        finally:
            await asyncio.gather(*(p.aclose() for p in publishers.values()))

    account_id, connected = _with_db(settings, connect)
    err.print(f"connected {platform} account {connected.username}", highlight=False)
    out.print(str(account_id), highlight=False)


@accounts_app.command("connect")
def accounts_connect(
    user: Annotated[str, typer.Option(help="the owner's email")],
    platform: Annotated[str, typer.Option(help="an OAuth platform, e.g. twitter")],
) -> None:
    """Print the URL that connects an account through the platform's OAuth (open it in a
    browser; the platform then sends it back to MASTHEAD_PUBLIC_URL/oauth/PLATFORM/callback)."""
    settings = load_settings()
    _migrate(settings)
    secrets = Secrets(settings.secret_keys)

    async def begin(db: Database) -> str:
        owner = await _require_user(db, user)()
        publishers = build_publishers(settings)
        try:
            return await oauth.start(
                db, secrets, settings, publishers, user_id=owner.id, platform=platform
            )
        except oauth.OAuthFailed as exc:
            raise _fail(exc.message) from None
        finally:
            await asyncio.gather(*(p.aclose() for p in publishers.values()))

    out.print(_with_db(settings, begin), highlight=False, soft_wrap=True)


@accounts_app.command("list")
def accounts_list(user: Annotated[str, typer.Option(help="the owner's email")]) -> None:
    """List a user's accounts."""
    settings = load_settings()
    _migrate(settings)

    async def listing(db: Database) -> list[accounts.AccountRow]:
        owner = await _require_user(db, user)()
        return await db.read(lambda conn: accounts.list_accounts(conn, owner.id))

    rows = _with_db(settings, listing)
    table = Table("id", "platform", "username", "name", "status")
    for row in rows:
        table.add_row(str(row.id), row.platform, row.username, row.fullname, row.status)
    out.print(table)
