#pragma once
/// The `file://` ObjectStore: a folder plays the bucket and key "a/b/c" is the file root/a/b/c
/// (DESIGN.md, "Pipeline config"). Close() commits atomically: temp file under root/.sluice/tmp/,
/// fsync, rename into place, fsync of the folder. ETags are the hex MD5 of the content, cached
/// in the extended attribute "user.sluice.etag" as "<mtime_ns>:<size>:<md5hex>" and recomputed
/// when that is absent or stale, so files other tools drop in get correct ETags too.
///
/// Differences from S3, all deliberate:
/// - A key and a folder cannot share a name: Put("a") while "a/b" exists, or Put("a/b") while
///   "a" exists, is AlreadyExists (S3 allows both). Head/Get of a folder is NotFound.
/// - Deleting the last key below a folder removes the emptied folders up to the root, since S3
///   has no folders.
/// - Symbolic links, devices, sockets and FIFOs are not objects: listings skip them and Head/Get
///   of one is NotFound (a link could point outside the bucket or make a listing loop).
/// - root/.sluice/ holds the store's own files; keys below it are rejected by ValidateKey.
/// - Object tags live in root/.sluice/tags/<hex MD5 of the key>, one line per version stamped
///   with the file's inode, mtime and size, written (and fsynced) before the object's rename, so
///   tags appear with the object; a file another tool drops in or rewrites has no tags. Copying
///   the folder with another tool keeps the tags only if it keeps inodes (it does not).
/// - A stale cached ETag is detected by mtime and size; a same-size rewrite by another tool
///   within one mtime tick (a few ms) can go unnoticed.

#include <filesystem>
#include <memory>

#include "sluice/core/error.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice {

/// Opens the store whose bucket is the absolute folder `root`, creating it (and root/.sluice/tmp/)
/// if missing, and removing temp files a crashed writer left there more than a day ago.
/// Returns InvalidArgument for a relative path, PermissionDenied when the folder cannot be
/// created, AlreadyExists when `root` is a file. Thread-safe, as are the store's methods; several
/// processes may share one root.
Result<std::unique_ptr<ObjectStore>> MakeLocalStore(const std::filesystem::path& root);

}  // namespace sluice
