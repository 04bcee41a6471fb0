"""An S3 bucket (or any S3-compatible store at `endpoint_url`) and a key prefix. Credentials are the
source's own (`access_key_id` and `secret_access_key`, kept sealed), or the server's (environment
or machine role) only where the operator allows it; the endpoint is reached only at addresses the
operator lets sources reach, checked on every connection (`reach`)."""

from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from citadel.sources.connectors.base import ConnectorError, Item, Known, Skipped
from citadel.sources.connectors.reach import Reach, Refused

MAX_ITEMS = 200_000


class S3Connector:
    secrets = ("access_key_id", "secret_access_key")
    concurrent_reads = 8

    def __init__(self, config: dict, reach: Reach):
        self.bucket = str(config.get("bucket") or "").strip()
        if not self.bucket:
            raise ConnectorError("An S3 source needs a bucket.")
        self.prefix = str(config.get("prefix") or "").strip().lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        endpoint = str(config.get("endpoint_url") or "").strip()
        if endpoint:
            if urlsplit(endpoint).scheme not in ("http", "https"):
                raise ConnectorError(f"The endpoint {endpoint} is not an http or https address.")
            reach.url(endpoint)
        key_id, secret = config.get("access_key_id") or "", config.get("secret_access_key") or ""
        if bool(key_id) != bool(secret):
            raise ConnectorError("An S3 source's keys are an access key ID and its secret access key, both.")
        reach.s3_credentials(bucket=self.bucket, own_keys=bool(key_id))
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=config.get("region") or None,
            aws_access_key_id=key_id or None,
            aws_secret_access_key=secret or None,
            # No proxy from the environment: it would reach for the source what the check refuses.
            config=Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 3}, proxies={}),
        )
        reach.guard_botocore(self.client)
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise _refused(exc) or ConnectorError(
                f"The bucket {self.bucket} cannot be read ({_reason(exc)})."
            ) from None

    def list(self, known: Mapping[str, Known]) -> Iterator[Item | Skipped]:
        count = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        try:
            for page in pages:
                for entry in page.get("Contents", []):
                    key = entry["Key"][len(self.prefix) :]
                    if not key or key.endswith("/") or any(part.startswith(".") for part in key.split("/")):
                        continue
                    count += 1
                    if count > MAX_ITEMS:
                        yield Skipped(
                            key, f"the bucket holds more than {MAX_ITEMS} objects here; the rest were not read"
                        )
                        return
                    yield Item(
                        key=key,
                        size=entry["Size"],
                        modified=entry["LastModified"].timestamp(),
                        tag=entry.get("ETag", "").strip('"'),
                    )
        except (ClientError, BotoCoreError) as exc:
            raise _refused(exc) or ConnectorError(
                f"The bucket {self.bucket} could not be listed ({_reason(exc)})."
            ) from None

    def read(self, key: str, *, max_bytes: int) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            if response["ContentLength"] > max_bytes:
                response["Body"].close()
                raise ValueError(f"it is larger than the {max_bytes // (1024 * 1024)} MB limit")
            return response["Body"].read(max_bytes + 1)
        except (ClientError, BotoCoreError) as exc:
            raise _refused(exc) or ValueError(f"it could not be read ({_reason(exc)})") from None

    def close(self) -> None:
        self.client.close()


def _refused(exc: Exception) -> Refused | None:
    """The reach's refusal, when botocore wrapped one (it wraps what the connection raises)."""
    cause = getattr(exc, "kwargs", {}).get("error")
    return cause if isinstance(cause, Refused) else None


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Message") or exc.response.get("Error", {}).get("Code", "error")
    return type(exc).__name__
