"""An offline stand-in for the Hugging Face Hub, for the tests of ganzoo push / pull / hf://
(standard library only; the client is pointed at it with HF_ENDPOINT).

Targets huggingface_hub 2.4.0 (httpx2 client). Implements just enough of the Hub API for:
  HfApi.create_repo / delete_repo / repo_info / model_info / repo_exists / list_repo_tree / whoami,
  HfApi.upload_folder / create_commit (regular files + LFS "basic" transfer; no Xet),
  hf_hub_download / snapshot_download.

Model repos only ("/api/models/..." and "/{ns}/{name}/resolve/..."); datasets/spaces are trivial to add.
State is in memory. Embed it: `server = make_server(port=0)`, then serve_forever() on a thread.

lfs_mode "auto": preupload answers uploadMode "lfs" for files >= 10 MB, binary samples (NUL byte) or
               LFS-tracked extensions (*.safetensors, *.bin, ...). Needs HF_HUB_DISABLE_XET=1 on the client
               (or hf_xet not installed), else the client asks /api/models/{repo}/xet-write-token/{rev}.
lfs_mode "never": every file is "regular" (base64 inline in the commit) -> works even with hf_xet enabled.
lfs_redirect: HEAD/GET /resolve on LFS files answer 302 to "http://localhost:PORT/_blob/<sha256>",
               i.e. a *different origin* than 127.0.0.1, like the Hub's CDN redirect.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LFS_PATTERNS = [
    "*.safetensors",
    "*.bin",
    "*.pt",
    "*.pth",
    "*.ckpt",
    "*.h5",
    "*.onnx",
    "*.gguf",
    "*.npz",
    "*.npy",
    "*.pkl",
    "*.zip",
    "*.tar",
    "*.gz",
    "*.parquet",
    "*.arrow",
    "*.msgpack",
    "*.model",
]
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS).encode()


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


class Store:
    """repos[(type, repo_id)] = {"private", "branches": {name: sha}, "commits": {sha: {path: FileEntry}}}
    FileEntry = {"sha256", "size", "lfs": bool, "git_oid"}; blobs[sha256] = bytes."""

    def __init__(self, lfs_mode="auto", lfs_redirect=False, with_gitattributes=True):
        self.lock = threading.RLock()
        self.repos: dict = {}
        self.blobs: dict[str, bytes] = {}
        self.lfs_mode = lfs_mode
        self.lfs_redirect = lfs_redirect
        self.with_gitattributes = with_gitattributes
        self.counter = 0

    def put_blob(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        return sha

    def entry(self, data: bytes, lfs: bool) -> dict:
        sha = self.put_blob(data)
        git_oid = git_sha1(lfs_pointer(sha, len(data))) if lfs else git_sha1(data)
        return {"sha256": sha, "size": len(data), "lfs": lfs, "git_oid": git_oid}

    def new_commit(self, repo: dict, files: dict) -> str:
        self.counter += 1
        sha = hashlib.sha1(f"{self.counter}:{time.time_ns()}:{sorted(files)}".encode()).hexdigest()
        repo["commits"][sha] = files
        return sha

    def resolve(self, repo: dict, rev: str) -> str | None:
        if rev in repo["branches"]:
            return repo["branches"][rev]
        if re.fullmatch(r"[0-9a-f]{7,40}", rev):
            hits = [c for c in repo["commits"] if c.startswith(rev)]
            if len(hits) == 1:
                return hits[0]
        return None

    def is_lfs(self, path: str, size: int, sample: bytes) -> bool:
        if self.lfs_mode == "never" or size == 0:
            return False
        name = path.rsplit("/", 1)[-1]
        return size >= LFS_SIZE_THRESHOLD or b"\x00" in sample or any(fnmatch.fnmatch(name, p) for p in LFS_PATTERNS)


class HubError(Exception):
    def __init__(self, status, message, code=None, headers=None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeHub/0.1"
    store: Store  # set by make_server

    def log_message(self, fmt, *args):  # quiet; set FAKEHUB_LOG=1 to print
        if getattr(self.server, "verbose", False):
            sys.stderr.write("fakehub: " + fmt % args + "\n")

    # ------------------------------------------------------------------ plumbing
    @property
    def base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send(self, status, body=b"", headers=None, ctype="application/json", head=False):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if not any(k.lower() == "content-length" for k in (headers or {})):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        segs = [unquote(s) for s in url.path.split("/")[1:]]  # unquote per segment: %2F stays inside a seg
        data = self.body() if self.command in ("POST", "PUT", "DELETE", "PATCH") else b""
        try:
            with self.store.lock:
                self.route(segs, data)
        except HubError as e:
            h = dict(e.headers)
            if e.code:
                h["X-Error-Code"] = e.code
            h["X-Error-Message"] = e.message
            self.send(e.status, {"error": e.message}, h)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = handle_any

    # ------------------------------------------------------------------ helpers
    def repo(self, repo_id: str, rtype: str = "model") -> dict:
        r = self.store.repos.get((rtype, repo_id))
        if r is None or (r["private"] and not self.headers.get("Authorization")):
            # Hub: 401 (anonymous) / 404, always with X-Error-Code: RepoNotFound
            raise HubError(401 if r else 404, "Repository not found", "RepoNotFound")
        return r

    def commit(self, repo: dict, rev: str) -> tuple[str, dict]:
        sha = self.store.resolve(repo, rev)
        if sha is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return sha, repo["commits"][sha]

    # ------------------------------------------------------------------ routing
    def route(self, s: list[str], data: bytes):
        m, n = self.command, len(s)
        if s[:1] == ["api"]:
            if m == "POST" and s[1:3] == ["repos", "create"]:
                return self.create_repo(json.loads(data or b"{}"))
            if m == "DELETE" and s[1:3] == ["repos", "delete"]:
                return self.delete_repo(json.loads(data or b"{}"))
            if m == "POST" and s[1:2] == ["validate-yaml"]:
                return self.send(200, {"errors": [], "warnings": []})
            if m == "GET" and s[1:2] == ["whoami-v2"]:
                if not self.headers.get("Authorization"):
                    raise HubError(401, "Invalid credentials in Authorization header")
                return self.send(
                    200,
                    {
                        "type": "user",
                        "name": "user",
                        "fullname": "user",
                        "orgs": [],
                        "auth": {"type": "access_token", "accessToken": {"role": "write"}},
                    },
                )
            if s[1:2] == ["models"] and n >= 4:
                repo_id, rest = f"{s[2]}/{s[3]}", s[4:]
                if m == "GET" and not rest:
                    return self.repo_info(repo_id, "main")
                if m == "GET" and rest[:1] == ["revision"] and len(rest) == 2:
                    return self.repo_info(repo_id, rest[1])
                if m == "GET" and rest[:1] == ["tree"] and len(rest) >= 2:
                    return self.tree(repo_id, rest[1], "/".join(rest[2:]))
                if m == "POST" and rest[:1] == ["preupload"] and len(rest) == 2:
                    return self.preupload(repo_id, rest[1], json.loads(data))
                if m == "POST" and rest[:1] == ["commit"] and len(rest) == 2:
                    return self.commit_ndjson(repo_id, rest[1], data)
                if rest[:1] and rest[0].startswith("xet-"):
                    raise HubError(501, "Xet is not supported by this test server; set HF_HUB_DISABLE_XET=1")
            raise HubError(404, f"Unknown API route {self.path}")
        if m == "POST" and n == 6 and s[2:] == ["info", "lfs", "objects", "batch"] and s[1].endswith(".git"):
            return self.lfs_batch(f"{s[0]}/{s[1][:-4]}", json.loads(data))
        if m == "PUT" and s[:1] == ["_lfs_upload"] and n == 2:
            return self.lfs_put(s[1], data)
        if m == "POST" and s[:1] == ["_lfs_verify"]:
            oid = json.loads(data)["oid"]
            if oid not in self.store.blobs:
                raise HubError(404, "Object not found")
            return self.send(200, {"success": True})
        if m in ("GET", "HEAD") and s[:1] == ["_blob"] and n == 2:
            return self.serve_bytes(self.store.blobs.get(s[1]) or b"", {"ETag": f'"{s[1]}"'})
        if m in ("GET", "HEAD") and n >= 5 and s[2] == "resolve":
            return self.resolve(f"{s[0]}/{s[1]}", s[3], "/".join(s[4:]))
        raise HubError(404, f"Not found: {self.path}")

    # ------------------------------------------------------------------ repos
    def create_repo(self, p: dict):
        if p.get("type", "model") != "model":
            raise HubError(400, "only model repos are supported")
        repo_id = f"{p.get('organization') or 'user'}/{p['name']}"
        url = f"{self.base}/{repo_id}"
        if ("model", repo_id) in self.store.repos:
            # NB: the client reads d["url"] from this 409 body too when exist_ok=True (hf_api.py:4785)
            return self.send(
                409,
                {"error": "You already created this model repo", "url": url},
                {"X-Error-Message": "You already created this model repo"},
            )
        repo = {
            "private": p.get("visibility", "public") != "public" or bool(p.get("private")),
            "branches": {},
            "commits": {},
        }
        files = {".gitattributes": self.store.entry(GITATTRIBUTES, False)} if self.store.with_gitattributes else {}
        repo["branches"]["main"] = self.store.new_commit(repo, files)
        self.store.repos[("model", repo_id)] = repo
        self.send(200, {"url": url, "name": repo_id, "id": repo_id})

    def delete_repo(self, p: dict):
        repo_id = f"{p.get('organization') or 'user'}/{p['name']}"
        if self.store.repos.pop((p.get("type") or "model", repo_id), None) is None:
            raise HubError(404, "Repository not found", "RepoNotFound")
        self.send(200, b"", ctype="text/plain")

    def repo_info(self, repo_id: str, rev: str):
        repo = self.repo(repo_id)
        sha, files = self.commit(repo, rev)
        self.send(
            200,
            {
                "_id": repo_id,
                "id": repo_id,
                "modelId": repo_id,
                "author": repo_id.split("/")[0],
                "sha": sha,
                "private": repo["private"],
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "lastModified": "2024-01-01T00:00:00.000Z",
                "createdAt": "2024-01-01T00:00:00.000Z",
                "siblings": [{"rfilename": p} for p in sorted(files)],
            },
        )

    def tree(self, repo_id: str, rev: str, prefix: str):
        repo = self.repo(repo_id)
        _, files = self.commit(repo, rev)
        recursive = self.query.get("recursive", "false").lower() in ("1", "true")
        prefix = prefix.strip("/")
        out, dirs = [], set()
        for path in sorted(files):
            if prefix and not path.startswith(prefix + "/"):
                continue
            rel = path[len(prefix) + 1 :] if prefix else path
            parts = rel.split("/")
            for i in range(1, len(parts)):  # intermediate directories
                d = "/".join(([prefix] if prefix else []) + parts[:i])
                if d not in dirs and (recursive or i == 1):
                    dirs.add(d)
                    out.append({"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d})
            if len(parts) > 1 and not recursive:
                continue
            e = files[path]
            item = {"type": "file", "oid": e["git_oid"], "size": e["size"], "path": path}
            if e["lfs"]:
                item["lfs"] = {
                    "oid": e["sha256"],
                    "size": e["size"],
                    "pointerSize": len(lfs_pointer(e["sha256"], e["size"])),
                }
            out.append(item)
        self.send(200, out)

    # ------------------------------------------------------------------ upload
    def preupload(self, repo_id: str, rev: str, p: dict):
        repo = self.repo(repo_id)
        _, files = self.commit(repo, rev)
        out = []
        for f in p["files"]:
            lfs = self.store.is_lfs(f["path"], f["size"], base64.b64decode(f.get("sample", "")))
            cur = files.get(f["path"])
            # `oid` is compared client-side with sha256 (lfs) or git-sha1 (regular) to skip unchanged files
            oid = None if cur is None else (cur["sha256"] if lfs else git_sha1(self.store.blobs[cur["sha256"]]))
            out.append(
                {"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid}
            )
        self.send(200, {"files": out, "commitOid": self.store.resolve(repo, rev)})

    def lfs_batch(self, repo_id: str, p: dict):
        self.repo(repo_id)
        objs = []
        for o in p["objects"]:
            item = {"oid": o["oid"], "size": o["size"], "authenticated": True}
            if o["oid"] not in self.store.blobs:
                item["actions"] = {
                    "upload": {"href": f"{self.base}/_lfs_upload/{o['oid']}"},
                    "verify": {"href": f"{self.base}/_lfs_verify"},
                }
            objs.append(item)
        self.send(200, {"transfer": "basic", "objects": objs}, ctype="application/vnd.git-lfs+json")

    def lfs_put(self, oid: str, data: bytes):
        if hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, "sha256 mismatch")
        self.store.blobs[oid] = data
        self.send(200, b"", ctype="text/plain")

    def commit_ndjson(self, repo_id: str, rev: str, data: bytes):
        repo = self.repo(repo_id)
        if self.query.get("create_pr"):
            raise HubError(400, "create_pr is not supported by this test server")
        if rev not in repo["branches"]:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        parent = repo["branches"][rev]
        files = dict(repo["commits"][parent])
        lines = [json.loads(line) for line in data.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "first ndjson line must be the header")
        header = lines[0]["value"]
        if header.get("parentCommit") and header["parentCommit"] != parent:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        for line in lines[1:]:
            k, v = line["key"], line["value"]
            if k == "file":
                files[v["path"]] = self.store.entry(base64.b64decode(v["content"]), False)
            elif k == "lfsFile":
                if v["oid"] not in self.store.blobs:
                    raise HubError(422, f"LFS object {v['oid']} not uploaded")
                blob = self.store.blobs[v["oid"]]
                files[v["path"]] = self.store.entry(blob, True)
            elif k == "deletedFile":
                if files.pop(v["path"], None) is None:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif k == "deletedFolder":
                pre = v["path"].rstrip("/") + "/"
                for p in [p for p in files if p.startswith(pre)]:
                    del files[p]
            else:
                raise HubError(400, f"unknown ndjson key {k}")
        sha = self.store.new_commit(repo, files)
        repo["branches"][rev] = sha
        self.send(
            200,
            {"success": True, "commitOid": sha, "commitUrl": f"{self.base}/{repo_id}/commit/{sha}", "hookOutput": ""},
        )

    # ------------------------------------------------------------------ download
    def resolve(self, repo_id: str, rev: str, path: str):
        repo = self.repo(repo_id)
        sha, files = self.commit(repo, rev)
        e = files.get(path)
        if e is None:
            raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": sha})
        h = {"X-Repo-Commit": sha, "ETag": f'"{e["sha256"] if e["lfs"] else e["git_oid"]}"', "Accept-Ranges": "bytes"}
        if e["lfs"]:
            h.update({"X-Linked-Etag": f'"{e["sha256"]}"', "X-Linked-Size": e["size"]})
            if self.store.lfs_redirect:
                port = self.headers.get("Host").rsplit(":", 1)[-1]
                h["Location"] = f"http://localhost:{port}/_blob/{e['sha256']}"  # other origin => "CDN"
                return self.send(302, b"", h, ctype="text/plain")
        self.serve_bytes(self.store.blobs[e["sha256"]], h)

    def serve_bytes(self, blob: bytes, h: dict):
        rng = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "") or "")
        if rng:
            start = int(rng.group(1))
            end = int(rng.group(2)) if rng.group(2) else len(blob) - 1
            part = blob[start : end + 1]
            h = {**h, "Content-Range": f"bytes {start}-{start + len(part) - 1}/{len(blob)}"}
            return self.send(206, part, h, ctype="application/octet-stream")
        self.send(200, blob, h, ctype="application/octet-stream")


def make_server(
    host="127.0.0.1", port=0, lfs_mode="auto", lfs_redirect=False, verbose=False, with_gitattributes=True
) -> ThreadingHTTPServer:
    store = Store(lfs_mode=lfs_mode, lfs_redirect=lfs_redirect, with_gitattributes=with_gitattributes)
    handler = type("BoundHandler", (Handler,), {"store": store})
    srv = ThreadingHTTPServer((host, port), handler)
    srv.daemon_threads = True
    srv.verbose = verbose
    srv.store = store
    return srv


def put_repo(server: ThreadingHTTPServer, repo_id: str, files: dict[str, bytes]) -> str:
    """A public repository holding ``files`` (all regular), made directly in the server's
    store; returns its commit."""
    store = server.store  # type: ignore[attr-defined]
    with store.lock:
        repo = {"private": False, "branches": {}, "commits": {}}
        entries = {path: store.entry(data, False) for path, data in files.items()}
        repo["branches"]["main"] = store.new_commit(repo, entries)
        store.repos[("model", repo_id)] = repo
        return repo["branches"]["main"]
