"""Sources and their syncs.

    source = source_create(principal=admin, kind="folder", name="Handbook", config={...})
    sync = source_sync_start(principal=admin, source_id=source.pk)      # queued for the worker
    source_sync_run(sync_id=sync.pk)                                     # the task

A sync lists the source and compares each item with what it saw last time: an unchanged item (same
size and time, or same content) is left alone; a changed one becomes a new version of its
document; a new one a new document, or, when its content is that of an item gone since, a rename
of that document (no re-reading, no re-embedding); an item gone is archived. The source's
permission rules give each item its readers, and a change there changes the document's grants.
Each item is its own transaction, and every outcome other than "unchanged" is recorded with its
sentence.

A sync is a run (citadel.jobs): the task claims it, and each item's transaction moves its lease on
and its progress (`run_extend`), so only the worker that owns the sync writes. A sync whose worker
was lost is queued again by the reaper and resumes: what the first pass recorded is unchanged the
second time, and counted once. A cancelled sync stops before its next item.
"""

import hashlib
import logging
import re
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from citadel.accounts.models import Membership, Team
from citadel.accounts.rules import require_role
from citadel.audit.services import audit_record
from citadel.core.errors import CitadelError, InvalidInput, NotFound
from citadel.core.principal import Principal, Role
from citadel.core.secrets import secrets_open, secrets_seal
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.models import Document, ReviewDateSource
from citadel.documents.services import access_grant, access_revoke, document_archive, document_upload
from citadel.jobs.services import RunStopped, run_claim, run_extend, run_fail, run_finish
from citadel.sources.connectors.base import ConnectorError, Item, Known, Readers, Skipped
from citadel.sources.connectors.folder import FolderConnector
from citadel.sources.connectors.imap import ImapConnector
from citadel.sources.connectors.reach import Refused, root_refusal
from citadel.sources.connectors.s3 import S3Connector
from citadel.sources.connectors.web import WebConnector
from citadel.sources.models import (
    DefaultAudience,
    Outcome,
    Source,
    SourceItem,
    SourceKind,
    SourceRoot,
    SourceSync,
    SyncOutcome,
    SyncStatus,
)
from citadel.sources.selectors import acting_admin, reach_for

logger = logging.getLogger(__name__)

SYNC_TASK = "citadel.sources.tasks.source_sync_run"
CONNECTORS = {
    SourceKind.FOLDER: FolderConnector,
    SourceKind.S3: S3Connector,
    SourceKind.IMAP: ImapConnector,
    SourceKind.WEB: WebConnector,
}


def connector_for(source: Source):
    """The source's connector, built under what its organization's sources may reach now."""
    return CONNECTORS[source.kind](
        {**source.config, **secrets_open(source.secrets)}, reach_for(organization_id=source.organization_id)
    )


# --- permission rules ----------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _pattern(glob: str) -> re.Pattern:
    """`legal/**` matches everything under legal/, `*` one path segment, `?` one character."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _clean_rules(organization_id: int, rules) -> list[dict]:
    if not isinstance(rules, list):
        raise InvalidInput('"permissions" is a list of {"match", "teams", "users"}.')
    cleaned = []
    for n, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or not isinstance(rule.get("match"), str) or not rule["match"].strip():
            raise InvalidInput(f'Permission rule {n} needs a "match" pattern such as legal/**.')
        teams, users = rule.get("teams") or [], rule.get("users") or []
        if not all(isinstance(t, str) for t in teams) or not all(isinstance(u, str) for u in users):
            raise InvalidInput(f"Permission rule {n}: teams and users are lists of names.")
        known_teams = set(
            Team.objects.filter(organization_id=organization_id, name__in=teams).values_list("name", flat=True)
        )
        known_users = set(
            Membership.objects.filter(organization_id=organization_id, user__username__in=users).values_list(
                "user__username", flat=True
            )
        )
        missing = [t for t in teams if t not in known_teams] + [u for u in users if u not in known_users]
        if missing:
            raise InvalidInput(f"Permission rule {n}: no team or member named {missing[0]!r} in this organization.")
        if not teams and not users:
            raise InvalidInput(f"Permission rule {n} names no team and no user.")
        cleaned.append({"match": rule["match"].strip().strip("/"), "teams": sorted(teams), "users": sorted(users)})
    return cleaned


MAX_REVIEW_EVERY_DAYS = 3660


def _clean_freshness(organization_id: int, rules) -> list[dict]:
    if not isinstance(rules, list):
        raise InvalidInput('"freshness" is a list of {"match", "owner" or "owner_team", "review_every_days"}.')
    cleaned = []
    for n, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or not isinstance(rule.get("match"), str) or not rule["match"].strip():
            raise InvalidInput(f'Freshness rule {n} needs a "match" pattern such as hr/**.')
        owner, team, days = rule.get("owner") or "", rule.get("owner_team") or "", rule.get("review_every_days")
        if owner and team:
            raise InvalidInput(
                f'Freshness rule {n}: a document is owned by a member or a team; give "owner" or "owner_team".'
            )
        if not isinstance(owner, str) or not isinstance(team, str):
            raise InvalidInput(f"Freshness rule {n}: owner and owner_team are names.")
        if owner and not Membership.objects.filter(organization_id=organization_id, user__username=owner).exists():
            raise InvalidInput(f"Freshness rule {n}: no member named {owner!r} in this organization.")
        if team and not Team.objects.filter(organization_id=organization_id, name=team).exists():
            raise InvalidInput(f"Freshness rule {n}: no team named {team!r} in this organization.")
        if days is not None and (
            not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_REVIEW_EVERY_DAYS
        ):
            raise InvalidInput(
                f'Freshness rule {n}: "review_every_days" is a whole number from 1 to {MAX_REVIEW_EVERY_DAYS}.'
            )
        if not owner and not team and days is None:
            raise InvalidInput(f"Freshness rule {n} gives no owner and no review period.")
        cleaned.append(
            {"match": rule["match"].strip().strip("/"), "owner": owner, "owner_team": team, "review_every_days": days}
        )
    return cleaned


def freshness_for(source: Source, key: str) -> dict:
    """The owner (a member or a Team) and review-by date the source's first matching freshness rule
    gives an item, as document_upload takes them; nothing when no rule matches, or when the member
    or team it names is gone."""
    rule = next((r for r in source.freshness if _pattern(r["match"]).match(key)), None)
    if rule is None:
        return {}
    owner = None
    if rule["owner"]:
        owner = (
            get_user_model()
            .objects.filter(username=rule["owner"], memberships__organization_id=source.organization_id)
            .first()
        )
    elif rule["owner_team"]:
        owner = Team.objects.filter(organization_id=source.organization_id, name=rule["owner_team"]).first()
    days = rule["review_every_days"]
    return {
        "owner": owner,
        "review_by": timezone.localdate() + timedelta(days=days) if days else None,
        "set_by": ReviewDateSource.SOURCE,
    }


@dataclass(frozen=True)
class _Directory:
    """Who is in the organization, read once per sync: the source's own access lists name people
    and groups, and each item's names are looked up here, not in the database."""

    admins: tuple[str, ...]
    teams: dict[str, str]  # lower-cased name -> the team's name
    people: dict[str, str]  # lower-cased username or email -> username

    @classmethod
    def of(cls, organization_id: int) -> "_Directory":
        members = list(
            Membership.objects.filter(organization_id=organization_id).values_list(
                "user__username", "user__email", "role"
            )
        )
        people = {}
        for username, email, _ in members:
            people[username.lower()] = username
            if email:
                people.setdefault(email.lower(), username)
        teams = Team.objects.filter(organization_id=organization_id).values_list("name", flat=True)
        return cls(
            admins=tuple(sorted(u for u, _, role in members if role == Role.ADMIN)),
            teams={name.lower(): name for name in teams},
            people=people,
        )


def audience_for(source: Source, item: Item, directory: _Directory) -> dict:
    """Who may read an item: the first rule matching its path, else the item's own access list
    where the source has one, else the source's default."""
    for rule in source.permissions:
        if _pattern(rule["match"]).match(item.key):
            return {"teams": rule["teams"], "users": rule["users"]}
    if item.readers is not None:
        return _mapped(item.readers, directory)
    if source.default_audience == DefaultAudience.ORGANIZATION:
        return {"organization": True}
    return {"teams": [], "users": list(directory.admins)}


def _mapped(readers: Readers, directory: _Directory) -> dict:
    """The source's own readers as teams (by name) and members (by username or email), in any case
    (a Unix group `legal` is the team Legal); names with no team or member here are dropped, and a
    list that maps to nobody leaves the item to admins."""
    if readers.everyone:
        return {"organization": True}
    teams = sorted({directory.teams[g.lower()] for g in readers.groups if g.lower() in directory.teams})
    users = sorted({directory.people[p.lower()] for p in readers.people if p.lower() in directory.people})
    if not teams and not users:
        return {"teams": [], "users": list(directory.admins)}
    return {"teams": teams, "users": users}


def _readers(source: Source, audience: dict) -> tuple[list[Team], list]:
    teams = list(Team.objects.filter(organization_id=source.organization_id, name__in=audience.get("teams", [])))
    users = list(
        get_user_model().objects.filter(
            username__in=audience.get("users", []), memberships__organization_id=source.organization_id
        )
    )
    return teams, users


def _grants_set(principal: Principal, source: Source, document: Document, audience: dict) -> None:
    """Make the document's grants those of the audience, through the documents' own grant services
    (an email's attachments follow, each change is audited), in the caller's transaction."""
    for grant in list(document.grants.all()):
        access_revoke(principal=principal, grant=grant)
    if audience.get("organization"):
        access_grant(principal=principal, document=document)
        return
    teams, users = _readers(source, audience)
    for team in teams:
        access_grant(principal=principal, document=document, team=team)
    for user in users:
        access_grant(principal=principal, document=document, user=user)


# --- folder roots (the operator's) ---------------------------------------------------------------


@transaction.atomic
def source_root_grant(*, organization_id: int, path: str) -> SourceRoot:
    """The operator opens a folder to an organization's folder sources. Refused: a folder Citadel or
    the system keeps (or one holding it), and one overlapping another organization's root. Granting
    a root already granted changes nothing."""
    if "\x00" in str(path):
        raise InvalidInput("A folder's path cannot hold a NUL character.")
    given = Path(str(path or "").strip())
    if not given.is_absolute():
        raise InvalidInput(f"{path!r} is not an absolute path.")
    real = given.resolve()
    if not real.is_dir():
        raise InvalidInput(f"{path} is not a folder on this machine.")
    refusal = root_refusal(real)
    if refusal is not None:
        raise InvalidInput(refusal)
    for other in SourceRoot.objects.exclude(organization_id=organization_id).select_related("organization"):
        theirs = Path(other.path)
        if real == theirs or real.is_relative_to(theirs) or theirs.is_relative_to(real):
            raise InvalidInput(
                f"{real} overlaps {theirs}, opened to {other.organization.slug}: a folder is opened to one "
                "organization only."
            )
    root, created = SourceRoot.objects.get_or_create(organization_id=organization_id, path=str(real))
    if created:
        _root_audit("sources.root_granted", root)
    return root


@transaction.atomic
def source_root_revoke(*, organization_id: int, path: str) -> SourceRoot:
    """Close a root: the next sync of a source inside it fails with a sentence, and the source is
    paused; what it brought in stays until an admin removes it."""
    given = str(path or "").strip()
    if "\x00" in given:
        raise InvalidInput("A folder's path cannot hold a NUL character.")
    candidates = {given, str(Path(given).resolve())} if given else set()
    root = SourceRoot.objects.filter(organization_id=organization_id, path__in=candidates).first()
    if root is None:
        raise NotFound(f"{path} is not opened to this organization.")
    _root_audit("sources.root_revoked", root)
    root.delete()
    return root


def _root_audit(verb: str, root: SourceRoot) -> None:
    audit_record(
        verb=verb,
        organization=root.organization_id,
        actor=None,
        actor_label="operator",
        target=root,
        metadata={"path": root.path},
    )


# --- sources -------------------------------------------------------------------------------------


@transaction.atomic
def source_create(*, principal: Principal, kind: str, name: str, config: dict) -> Source:
    """An admin adds a source. `config` holds the kind's settings, "permissions" and
    "default_audience"; the source is checked (a folder must exist) before it is saved."""
    require_role(principal, Role.ADMIN, "Only admins add sources.")
    if kind not in SourceKind.values:
        raise InvalidInput(f"Sources of kind {kind!r} cannot be added here; kinds: {', '.join(SourceKind.values)}.")
    name = " ".join(str(name or "").split())
    if not name or len(name) > 100:
        raise InvalidInput("A source needs a name of at most 100 characters.")
    if not isinstance(config, dict):
        raise InvalidInput("The configuration is an object.")
    secret_names = CONNECTORS[kind].secrets
    settings_ = {
        k: v
        for k, v in config.items()
        if k not in ("permissions", "freshness", "default_audience", "sync_every_minutes", *secret_names)
    }
    secrets = {k: config[k] for k in secret_names if config.get(k)}
    if not all(isinstance(v, str) for v in secrets.values()):
        raise InvalidInput(f"{', '.join(secrets)}: secrets are strings.")
    every = config.get("sync_every_minutes")
    if every is not None and (not isinstance(every, int) or not 5 <= every <= 60 * 24 * 30):
        raise InvalidInput('"sync_every_minutes" is a whole number of minutes from 5 to 43200.')
    audience = config.get("default_audience", DefaultAudience.ORGANIZATION)
    if audience not in DefaultAudience.values:
        raise InvalidInput(f'"default_audience" is one of {", ".join(DefaultAudience.values)}.')
    source = Source(
        organization_id=principal.organization_id,
        kind=kind,
        name=name,
        config=settings_,
        secrets=secrets_seal(secrets),
        permissions=_clean_rules(principal.organization_id, config.get("permissions", [])),
        freshness=_clean_freshness(principal.organization_id, config.get("freshness", [])),
        default_audience=audience,
        sync_every_minutes=every,
        created_by_id=principal.user_id,
    )
    try:
        connector_for(source).close()
    except ConnectorError as exc:
        raise InvalidInput(str(exc)) from None
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError:
        raise InvalidInput(f"A source named {name!r} exists already.") from None
    audit_record(
        verb="sources.created",
        organization=principal.organization_id,
        actor=principal,
        target=source,
        metadata={
            "kind": kind,
            "name": name,
            "config": settings_,
            "secrets": sorted(secrets),
            "permissions": source.permissions,
            "freshness": source.freshness,
        },
    )
    return source


@transaction.atomic
def source_pause(*, principal: Principal, source_id: int, paused: bool) -> Source:
    """A paused source is not synced on its schedule; "sync now" still syncs it."""
    require_role(principal, Role.ADMIN, "Only admins pause sources.")
    source = Source.objects.select_for_update().filter(pk=source_id, organization_id=principal.organization_id).first()
    if source is None:
        raise NotFound("No such source.")
    if source.paused != paused:
        source.paused = paused
        # Resumed by an admin: the next sync checks again what it reaches.
        source.paused_reason = ""
        source.save(update_fields=["paused", "paused_reason"])
        audit_record(
            verb="sources.paused" if paused else "sources.resumed",
            organization=principal.organization_id,
            actor=principal,
            target=source,
            metadata={},
        )
    return source


@transaction.atomic
def source_sync_start(*, principal: Principal, source_id: int, enqueue: bool = True) -> SourceSync:
    """Queue a sync, or return the one queued or running: a source never syncs twice at once."""
    require_role(principal, Role.ADMIN, "Only admins sync sources.")
    source = Source.objects.select_for_update().filter(pk=source_id, organization_id=principal.organization_id).first()
    if source is None:
        raise NotFound("No such source.")
    return _sync_queue(source, requested_by=principal, enqueue=enqueue)


def sources_sync_due(*, now=None) -> list[int]:
    """Start the syncs their schedules say are due; the reaper calls this. A source with a sync
    queued or running gets none (one whose worker was lost is the jobs reaper's to queue again).
    Returns the ids of the syncs queued."""
    now = now or timezone.now()
    queued = []
    for source in Source.objects.filter(paused=False, sync_every_minutes__isnull=False):
        with transaction.atomic():
            source = Source.objects.select_for_update(skip_locked=True).filter(pk=source.pk).first()
            if source is None:
                continue
            latest = source.syncs.order_by("-created_at").first()
            due = latest is None or latest.created_at <= now - timedelta(minutes=source.sync_every_minutes)
            open_ = latest is not None and latest.status in (SyncStatus.QUEUED, SyncStatus.RUNNING)
            if due and not open_:
                queued.append(_sync_queue(source, requested_by=None, enqueue=True).pk)
    return queued


def _sync_queue(source: Source, *, requested_by: Principal | None, enqueue: bool) -> SourceSync:
    open_sync = source.syncs.filter(status__in=[SyncStatus.QUEUED, SyncStatus.RUNNING]).first()
    if open_sync is not None:
        return open_sync
    sync = SourceSync.objects.create(source=source, requested_by_id=requested_by.user_id if requested_by else None)
    audit_record(
        verb="sources.sync_requested",
        organization=source.organization_id,
        actor=requested_by,
        target=source,
        metadata={"sync_id": sync.pk, "scheduled": requested_by is None},
    )
    if enqueue:
        enqueue_on_commit(SYNC_TASK, sync.pk)
    return sync


@dataclass
class SyncResult:
    sync: SourceSync
    # The versions the sync uploaded, for a caller that ingests them itself (enqueue=False).
    version_ids: list[int] = field(default_factory=list)


# A pass through unchanged items (which record nothing) moves the sync's lease on this often.
EXTEND_EVERY_SECONDS = 5.0


@dataclass
class _Pass:
    """One worker's pass through a sync it claimed."""

    sync: SourceSync
    principal: Principal
    connector: object
    enqueue: bool
    directory: _Directory
    version_ids: list[int] = field(default_factory=list)
    # Items seen unchanged: marked seen, and counted, in bulk at the end.
    unchanged_ids: list[int] = field(default_factory=list)
    # The items of the listing gone through.
    done: int = 0
    extended_at: float = field(default_factory=time.monotonic)

    def advance(self, *, recorded: bool = True) -> None:
        """One more item gone through. One whose outcome was recorded moves the lease on (and
        raises RunStopped when the sync is no longer this worker's) in the transaction recording
        it; an unchanged one, only every few seconds."""
        self.done += 1
        self.keep(force=recorded)

    def keep(self, *, force: bool = False) -> None:
        if force or time.monotonic() - self.extended_at >= EXTEND_EVERY_SECONDS:
            run_extend(self.sync, done=self.done)
            self.extended_at = time.monotonic()


def source_sync_run(*, sync_id: int, enqueue: bool = True) -> SyncResult | None:
    """Run a queued sync (or take over one whose worker was lost), as the worker that claims it: a
    sync that ended, or one a live worker runs, is returned as it is. A worker whose sync was
    cancelled or taken over stops before its next item and writes nothing more. With
    enqueue=False the versions it uploads are not queued for ingestion: the caller ingests them
    (`source_sync --sync`)."""
    sync, claimed = run_claim(SourceSync, sync_id)
    if sync is None:
        return None
    if not claimed:
        return SyncResult(sync)
    source = sync.source
    connector = None
    run = None
    try:
        if sync.attempts > 1:
            _resume(sync)
        known = {row.key: row for row in SourceItem.objects.filter(source=source, removed_at__isnull=True)}
        principal = acting_admin(source=source)
        connector = connector_for(source)
        run = _Pass(
            sync=sync,
            principal=principal,
            connector=connector,
            enqueue=enqueue,
            directory=_Directory.of(source.organization_id),
        )
        listing = []
        for entry in connector.list({key: Known(r.size, r.modified, r.tag, r.memo) for key, r in known.items()}):
            listing.append(entry)
            run.keep()
        items = [entry for entry in listing if isinstance(entry, Item)]
        skipped = [entry for entry in listing if isinstance(entry, Skipped)]
        with transaction.atomic():
            run_extend(sync, done=0, total=len(items))
            for entry in skipped:
                _outcome(sync, entry.key, Outcome.FAILED, entry.reason)
        listed = {item.key for item in items}
        gone = {key: row for key, row in known.items() if key not in listed and not _kept(key, skipped)}
        for item, content in _read_ahead(connector, items, known):
            try:
                with transaction.atomic():
                    version_id = _sync_item(run, item, known.get(item.key), gone, content)
            except (CitadelError, ValueError) as exc:
                with transaction.atomic():
                    _outcome(sync, item.key, Outcome.FAILED, exc.message if isinstance(exc, CitadelError) else str(exc))
                    run.advance()
            else:
                if version_id is not None:
                    run.version_ids.append(version_id)
        for row in gone.values():
            _remove(run, row)
        _seen_unchanged(run)
        return SyncResult(_finish(run), run.version_ids)
    except RunStopped:
        # Cancelled, or taken over by another worker: what it recorded stands; nothing more.
        sync.refresh_from_db()
        return SyncResult(sync, run.version_ids if run is not None else [])
    except (CitadelError, ConnectorError) as exc:
        message = exc.message if isinstance(exc, CitadelError) else str(exc)
        if isinstance(exc, Refused):
            _pause_refused(source, message)
        return SyncResult(run_fail(sync, message))
    except Exception:
        logger.exception("Sync %s of source %s stopped on an unexpected error", sync.pk, source.pk)
        run_fail(
            sync, "The sync stopped on an unexpected error. Sync again; if it fails again, tell your administrator."
        )
        raise
    finally:
        if connector is not None:
            connector.close()


def _resume(sync: SourceSync) -> None:
    """A sync taken over (or retried) goes through its listing again: the items the last pass
    recorded are unchanged now (and not counted twice, see `_sync_item`), and those that failed
    are tried again, so their failures are forgotten."""
    with transaction.atomic():
        run_extend(sync, done=0)
        sync.outcomes.filter(outcome=Outcome.FAILED).delete()
        SourceSync.objects.filter(pk=sync.pk).update(failed=0)


def _pause_refused(source: Source, reason: str) -> None:
    """A source that reaches what the operator does not allow (created before the rules, or since
    refused: a root revoked, a name resolving inward) is paused with the sentence, not retried on
    its schedule; its documents stay."""
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).update(paused=True, paused_reason=reason)
        audit_record(
            verb="sources.paused",
            organization=source.organization_id,
            actor=None,
            target=source,
            metadata={"reason": reason},
        )


def _unchanged(row: SourceItem | None, item: Item) -> bool:
    return row is not None and (row.size, row.modified, row.tag) == (item.size, item.modified, item.tag)


def _read_ahead(connector, items: list[Item], known: dict) -> Iterator[tuple[Item, Future | None]]:
    """Each item with the read of its bytes under way, when it must be read: a connector that
    allows concurrent reads (S3: each a request) has several in flight while items are stored."""
    width = connector.concurrent_reads
    max_bytes = settings.CITADEL["MAX_UPLOAD_BYTES"]
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="source-read") as pool:
        window: deque[tuple[Item, Future | None]] = deque()
        for item in items:
            needed = not _unchanged(known.get(item.key), item)
            window.append((item, pool.submit(connector.read, item.key, max_bytes=max_bytes) if needed else None))
            # Reads stay a few items ahead, so at most that many items' bytes are held at once.
            if len(window) > width:
                yield window.popleft()
        while window:
            yield window.popleft()


def _kept(key: str, skipped: list[Skipped]) -> bool:
    """A key skipped this time (or under a skipped folder) keeps its document: unreadable is not gone."""
    return any(key == entry.key or key.startswith(entry.key.rstrip("/") + "/") for entry in skipped)


def _seen_unchanged(run: _Pass) -> None:
    now = timezone.now()
    for start in range(0, len(run.unchanged_ids), 5000):
        batch = run.unchanged_ids[start : start + 5000]
        with transaction.atomic():
            run.keep(force=True)
            SourceItem.objects.filter(pk__in=batch).update(last_seen_at=now)
            SourceSync.objects.filter(pk=run.sync.pk).update(unchanged=F("unchanged") + len(batch))


def _sync_item(run: _Pass, item: Item, row: SourceItem | None, gone: dict, content: Future | None) -> int | None:
    """Bring one item in, in the caller's transaction, which ends with the sync's progress (the
    item rolls back when the sync is no longer this worker's). Returns the version it uploaded."""
    sync, principal, source = run.sync, run.principal, run.sync.source
    audience = audience_for(source, item, run.directory)
    now = timezone.now()
    if _unchanged(row, item):
        _regrant(sync, principal, row, audience)
        if row.memo != item.memo:
            SourceItem.objects.filter(pk=row.pk).update(memo=item.memo)
        if not _seen_by(sync, row):
            run.unchanged_ids.append(row.pk)
        run.advance(recorded=False)
        return None
    data = content.result()
    sha256 = hashlib.sha256(data).hexdigest()
    if row is not None and row.sha256 == sha256:
        _regrant(sync, principal, row, audience)
        SourceItem.objects.filter(pk=row.pk).update(
            size=item.size, modified=item.modified, tag=item.tag, memo=item.memo, last_seen_at=now
        )
        _count(sync, Outcome.UNCHANGED)
        run.advance()
        return None
    if row is None:
        moved = next((r for r in gone.values() if r.sha256 == sha256 and r.document_id), None)
        if moved is not None:
            _rename(sync, moved, item, audience, principal, gone)
            run.advance()
            return None
    filename = item.name or item.key.rsplit("/", 1)[-1]
    external_id = row.document.external_id if row is not None and row.document else _new_external_id(source, item.key)
    teams, users = _readers(source, audience) if not audience.get("organization") else ([], [])
    upload = document_upload(
        principal=principal,
        file=ContentFile(data, name=filename),
        filename=filename,
        external_id=external_id,
        teams=teams,
        users=users,
        enqueue=run.enqueue,
        **freshness_for(source, item.key),
    )
    if row is None:
        row, _ = SourceItem.objects.update_or_create(
            source=source,
            key=item.key,
            defaults={
                "document": upload.document,
                "size": item.size,
                "modified": item.modified,
                "sha256": sha256,
                "tag": item.tag,
                "memo": item.memo,
                "audience": audience,
                "last_seen_at": now,
                "removed_at": None,
            },
        )
        _outcome(sync, item.key, Outcome.ADDED)
    else:
        SourceItem.objects.filter(pk=row.pk).update(
            size=item.size, modified=item.modified, sha256=sha256, tag=item.tag, memo=item.memo, last_seen_at=now
        )
        row.refresh_from_db()
        _regrant(sync, principal, row, audience)
        _outcome(sync, item.key, Outcome.UPDATED)
    run.advance()
    return upload.version.pk if upload.created else None


def _seen_by(sync: SourceSync, row: SourceItem) -> bool:
    """Whether an earlier pass of this sync (one whose worker was lost) recorded the item: it was
    counted then, and is not counted again."""
    return sync.attempts > 1 and row.last_seen_at >= sync.created_at


def _new_external_id(source: Source, key: str) -> str:
    """`<source>/<path>`; a file back at a path whose document was archived gets a new document
    (`<source>/<path>#2`), the archived one staying as it was."""
    base = f"{source.name}/{key}"[:250]
    taken = set(
        Document.objects.filter(organization_id=source.organization_id, external_id__startswith=base).values_list(
            "external_id", flat=True
        )
    )
    if base not in taken:
        return base
    return next(f"{base}#{n}" for n in range(2, len(taken) + 3) if f"{base}#{n}" not in taken)


def _regrant(sync, principal, row: SourceItem, audience: dict) -> None:
    """The source's permissions for the item changed: so do the document's grants."""
    if row.audience == audience or row.document is None:
        return
    with transaction.atomic():
        _grants_set(principal, sync.source, row.document, audience)
        SourceItem.objects.filter(pk=row.pk).update(audience=audience)
        audit_record(
            verb="sources.permissions_changed",
            organization=sync.source.organization_id,
            actor=None,
            target=row.document,
            metadata={"source_id": sync.source_id, "key": row.key, "before": row.audience, "after": audience},
        )


def _rename(sync, row: SourceItem, item: Item, audience: dict, principal, gone: dict) -> None:
    """The same content at another path: the document follows it, without being read again."""
    with transaction.atomic():
        gone.pop(row.key, None)
        document = Document.objects.select_for_update().get(pk=row.document_id)
        before = row.key
        row.key, row.size, row.modified, row.tag, row.memo = item.key, item.size, item.modified, item.tag, item.memo
        row.last_seen_at = timezone.now()
        row.save(update_fields=["key", "size", "modified", "tag", "memo", "last_seen_at"])
        document.title = (
            item.key.rsplit("/", 1)[-1][:500] if document.title == before.rsplit("/", 1)[-1] else document.title
        )
        document.save(update_fields=["title", "updated_at"])
        audit_record(
            verb="sources.renamed",
            organization=sync.source.organization_id,
            actor=None,
            target=document,
            metadata={"source_id": sync.source_id, "from": before, "to": item.key},
        )
        _outcome(sync, f"{before} -> {item.key}", Outcome.RENAMED)
    _regrant(sync, principal, row, audience)


def _remove(run: _Pass, row: SourceItem) -> None:
    with transaction.atomic():
        run.keep(force=True)
        SourceItem.objects.filter(pk=row.pk).update(removed_at=timezone.now())
        document = Document.objects.filter(pk=row.document_id, archived_at__isnull=True).first()
        if document is not None:
            document_archive(principal=run.principal, document=document)
        _outcome(run.sync, row.key, Outcome.ARCHIVED)


def _count(sync: SourceSync, outcome: str) -> None:
    SourceSync.objects.filter(pk=sync.pk).update(**{outcome: F(outcome) + 1})


def _outcome(sync: SourceSync, key: str, outcome: str, error: str = "") -> None:
    with transaction.atomic():
        SyncOutcome.objects.create(sync=sync, key=key[:1000], outcome=outcome, error=error)
        _count(sync, outcome)


def _finish(run: _Pass) -> SourceSync:
    with transaction.atomic():
        counts = SourceSync.objects.filter(pk=run.sync.pk).values(
            "added", "updated", "unchanged", "renamed", "archived", "failed"
        )[0]
        sync = run_finish(run.sync, status=SyncStatus.DONE, done=run.done)
        audit_record(
            verb="sources.synced",
            organization=sync.source.organization_id,
            actor=None,
            target=sync.source,
            metadata={"sync_id": sync.pk, **counts, "error": ""},
        )
    return sync
