#!/usr/bin/env bash
# `sluice monitor` (issue 4) with s3_upload's config shape: two sequencer folders (a MiSeq and a
# NovaSeq 6000 run from sluice-gen-illumina, a few MB and ~50 files each) into two buckets, one at
# the bucket root and one below a remote_path, with sample_regex and exclude_patterns. Checks the
# keys (<remote_path>/<run folder>/<relative path>), the bytes, that the completion markers are
# there and were stored last, the per-run state logs field for field (research §1.6), the daily
# log file, the Slack success post (research §1.9 text) and the generic webhook; then that a
# second invocation has nothing to do (exit 0, nothing re-uploaded, no second post).
# Run through with-ceph-env.sh (CTest does).
. "$(dirname "$0")/lib_illumina.sh"

make_bucket bucket_a miseq
make_bucket bucket_b novaseq
start_listener

gen_run miseq "$WORK/sequencer_a" --files 50 --size 4MB --seed 11
run_a=$RUN_DIR name_a=$RUN_NAME files_a=$RUN_FILES
gen_run novaseq6000 "$WORK/sequencer_b" --files 50 --size 6MB --seed 12
run_b=$RUN_DIR name_b=$RUN_NAME files_b=$RUN_FILES
echo "# $name_a: $files_a files; $name_b: $files_b files"
[ "$name_a" != "$name_b" ] || fatal "the generator gave both runs the same name"

log_dir="$WORK/logs/not-yet-created"   # s3_upload bug B2: log_dir must be created if missing
exclude='/InterOp/'
cat >"$WORK/config.json" <<JSON
{
  "max_cores": 2,
  "max_threads": 4,
  "max_age": 72,
  "log_level": "INFO",
  "log_dir": "$log_dir",
  "slack_log_webhook": "$HOOK_URL/log",
  "slack_alert_webhook": "$HOOK_URL/alert",
  "webhook": "$HOOK_URL/generic",
  "stable_seconds": 1,
  "monitor": [
    {
      "monitored_directories": ["$WORK/sequencer_a"],
      "bucket": "$bucket_a",
      "remote_path": "/",
      "sample_regex": "_assay_1"
    },
    {
      "monitored_directories": ["$WORK/sequencer_b"],
      "bucket": "$bucket_b",
      "remote_path": "/runs/novaseq",
      "exclude_patterns": ["$exclude"]
    }
  ]
}
JSON

run_monitor first --config "$WORK/config.json"
expect_rc "sluice monitor uploads two runs" "$MONITOR_RC" 0 "$WORK/first.out"

# ---- keys
want_a=$(local_keys "$run_a" "")
got_a=$(bucket_keys "$bucket_a")
if [ "$got_a" = "$want_a" ]; then
  pass "bucket A holds exactly <run>/<relative path> for the $files_a files of $name_a"
else
  fail "bucket A keys differ from <run>/<relative path> (< expected, > got):"
  diff <(echo "$want_a") <(echo "$got_a") | head -n 20 | sed 's/^/    | /'
fi
want_b=$(local_keys "$run_b" "runs/novaseq/" "$exclude")
got_b=$(bucket_keys "$bucket_b")
if [ "$got_b" = "$want_b" ]; then
  pass "bucket B holds exactly runs/novaseq/<run>/<relative path> ($(echo "$want_b" | wc -l) files; InterOp/ excluded)"
else
  fail "bucket B keys differ from runs/novaseq/<run>/<relative path> minus InterOp/ (< expected, > got):"
  diff <(echo "$want_b") <(echo "$got_b") | head -n 20 | sed 's/^/    | /'
fi
if grep -q '/InterOp/' <<<"$got_b"; then fail "an excluded InterOp/ file was uploaded"; else pass "exclude_patterns: nothing below InterOp/ in bucket B"; fi

# ---- markers: there, and stored last
grep -qx "$name_a/RTAComplete.txt" <<<"$got_a" && pass "MiSeq marker RTAComplete.txt uploaded" \
  || fail "no $name_a/RTAComplete.txt in bucket A"
grep -qx "runs/novaseq/$name_b/CopyComplete.txt" <<<"$got_b" && pass "NovaSeq marker CopyComplete.txt uploaded" \
  || fail "no runs/novaseq/$name_b/CopyComplete.txt in bucket B"
if out=$(markers_last "$bucket_a" "$name_a/"); then pass "bucket A: markers stored last ($out)"; else fail "bucket A: $out"; fi
if out=$(markers_last "$bucket_b" "runs/novaseq/$name_b/"); then pass "bucket B: markers stored last ($out)"; else fail "bucket B: $out"; fi

# ---- bytes
if same_bytes "$bucket_a" "" "$WORK/sequencer_a" >"$WORK/diff.a" 2>&1; then
  pass "aws s3 cp --recursive brings bucket A back byte-identical"
else fail "bucket A differs from the run folder:"; show "$WORK/diff.a"; fi
if same_bytes "$bucket_b" "runs/novaseq/" "$WORK/sequencer_b" -x InterOp >"$WORK/diff.b" 2>&1; then
  pass "aws s3 cp --recursive brings bucket B back byte-identical (InterOp/ aside)"
else fail "bucket B differs from the run folder:"; show "$WORK/diff.b"; fi
bad_etag=0
while IFS=$'\t' read -r key size etag _; do
  case $etag in *-*) continue ;; esac   # multipart: covered by the download above
  rel=${key#runs/novaseq/}
  local_file="$WORK/sequencer_b/$rel"
  [ -f "$local_file" ] || continue
  [ "$(md5_etag "$local_file")" = "$etag" ] || { bad_etag=$((bad_etag + 1)); echo "    | $key: ETag $etag, md5 $(md5_etag "$local_file")"; }
done < <(bucket_rows "$bucket_b")
[ "$bad_etag" -eq 0 ] && pass "bucket B: every single-part ETag is the local file's MD5" \
  || fail "bucket B: $bad_etag ETag(s) differ from the local MD5"

# ---- state logs, daily log
check_state_log "$log_dir" "$run_a" "$bucket_a" ""
check_state_log "$log_dir" "$run_b" "$bucket_b" "runs/novaseq/" "$exclude"
daily_local="$log_dir/s3_upload.log.$(date +%F)" daily_utc="$log_dir/s3_upload.log.$(date -u +%F)"
if [ -s "$daily_local" ] || [ -s "$daily_utc" ]; then
  pass "daily log $(basename "$daily_local") written"
else
  fail "no daily log s3_upload.log.YYYY-MM-DD in $log_dir"; ls -la "$log_dir" 2>&1 | sed 's/^/    | /'
fi

# ---- webhooks
sleep 0.5   # the posts are answered before the monitor exits; this only covers a slow flush
success_1=":white_check_mark:  *S3 Upload*: Successfully uploaded 2 runs\n\t\t• $name_a\n\t\t• $name_b"
success_2=":white_check_mark:  *S3 Upload*: Successfully uploaded 2 runs\n\t\t• $name_b\n\t\t• $name_a"
log_posts=$(posts /log)
if [ "$(post_count /log)" = 1 ] && { [ "$log_posts" = "\"$success_1\"" ] || [ "$log_posts" = "\"$success_2\"" ]; }; then
  pass "one Slack post to slack_log_webhook with s3_upload's success text"
else
  fail "slack_log_webhook: expected one post \"$success_1\" (runs in any order), got $(post_count /log):"
  echo "$log_posts" | sed 's/^/    | /'
fi
if "$PY" - "$HOOK_FILE" <<'EOF'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
slack = [p for p in posts if p["path"] in ("/log", "/alert")]
ok = all(isinstance(p["body"], dict) and list(p["body"]) == ["text"] and
         (p["content_type"] or "").startswith("application/json") for p in slack)
sys.exit(0 if ok and slack else 1)
EOF
then pass "Slack posts are application/json bodies {\"text\": ...}"
else fail "a Slack post is not an application/json {\"text\": ...} body"; sed 's/^/    | /' "$HOOK_FILE"; fi
[ "$(post_count /alert)" = 0 ] && pass "no alert posted" \
  || { fail "alert(s) posted on a clean upload:"; posts /alert | sed 's/^/    | /'; }
if "$PY" - "$HOOK_FILE" "$name_a" "$name_b" <<'EOF'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
generic = [p for p in posts if p["path"] == "/generic"]
ok = any(p["body"] is not None and sys.argv[2] in p["raw"] and sys.argv[3] in p["raw"] for p in generic)
sys.exit(0 if ok else 1)
EOF
then pass "the generic webhook got a JSON post naming both runs"
else fail "no JSON post naming both runs on the generic webhook:"; posts /generic | sed 's/^/    | /'; fi

# ---- a second invocation has nothing to do
bucket_rows "$bucket_a" >"$WORK/rows.a.before"; bucket_rows "$bucket_b" >"$WORK/rows.b.before"
sleep 1.1   # so that a re-upload would show as a new LastModified
run_monitor second --config "$WORK/config.json"
expect_rc "a second sluice monitor (nothing to do)" "$MONITOR_RC" 0 "$WORK/second.out"
bucket_rows "$bucket_a" >"$WORK/rows.a.after"; bucket_rows "$bucket_b" >"$WORK/rows.b.after"
if cmp -s "$WORK/rows.a.before" "$WORK/rows.a.after" && cmp -s "$WORK/rows.b.before" "$WORK/rows.b.after"; then
  pass "the second invocation re-uploaded nothing (same ETags and LastModified)"
else
  fail "the second invocation changed objects:"
  diff "$WORK/rows.a.before" "$WORK/rows.a.after" | head -n 10 | sed 's/^/    | /'
  diff "$WORK/rows.b.before" "$WORK/rows.b.after" | head -n 10 | sed 's/^/    | /'
fi
sleep 0.5
[ "$(post_count /log)" = 1 ] && pass "no second success post" \
  || { fail "the second invocation posted again:"; posts /log | sed 's/^/    | /'; }

finish
