// The embedded sqlite:// queue. One table of jobs; a partial index over the ready jobs of each
// route keeps Claim O(log n) however many succeeded jobs accumulate, and a second one over
// running jobs keeps lease recovery cheap. A second table keeps every attempt of every job (who,
// when, how long, how it ended), which `sluice dlq show` and `sluice status` read.

#include <algorithm>
#include <mutex>

#include <fmt/format.h>

#include "sluice/core/uri.hpp"
#include "sluice/engine/queue/amqp_queue.hpp"
#include "sluice/engine/queue/queue.hpp"
#include "sluice/tables/sqlite_db.hpp"

namespace sluice {
namespace {

using Clock = std::chrono::system_clock;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

Clock::time_point FromMs(std::int64_t ms) {
  return Clock::time_point(std::chrono::milliseconds(ms));
}

constexpr const char* kJobsTable = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  route            TEXT    NOT NULL,
  dedupe_key       TEXT    NOT NULL UNIQUE,
  event            TEXT    NOT NULL,
  state            TEXT    NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL DEFAULT 1,
  not_before_ms    INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_expires_ms INTEGER NOT NULL DEFAULT 0,
  last_error       TEXT    NOT NULL DEFAULT '',
  created_ms       INTEGER NOT NULL,
  updated_ms       INTEGER NOT NULL,
  object           TEXT    NOT NULL DEFAULT ''
);
)sql";

// The store + key part of a job's identity: jobs of one route and object never run at once.
std::string ObjectOf(const Event& event) { return event.store + '\x1f' + event.key; }

constexpr const char* kSchema = R"sql(
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (route, not_before_ms)
  WHERE state IN ('pending', 'failed');
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (lease_expires_ms) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE INDEX IF NOT EXISTS jobs_running_object ON jobs (route, object) WHERE state = 'running';
CREATE TABLE IF NOT EXISTS attempts (
  job_id     INTEGER NOT NULL,
  number     INTEGER NOT NULL,
  owner      TEXT    NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms   INTEGER NOT NULL DEFAULT 0,
  outcome    TEXT    NOT NULL DEFAULT 'running',
  error      TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sequencers (
  route     TEXT NOT NULL,
  object    TEXT NOT NULL,
  sequencer TEXT NOT NULL,
  PRIMARY KEY (route, object)
);
CREATE INDEX IF NOT EXISTS attempts_job ON attempts (job_id);
CREATE INDEX IF NOT EXISTS attempts_ended ON attempts (ended_ms);
)sql";

constexpr const char* kColumns =
    "id, route, dedupe_key, event, state, attempts, max_attempts, not_before_ms, "
    "lease_expires_ms, last_error, created_ms, updated_ms";

class SqliteQueue final : public Queue {
 public:
  explicit SqliteQueue(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  Status Init() {
    std::lock_guard lock(mutex_);
    // Queues created before the `object` column (store + key, for per-key ordering) gain it here.
    SLUICE_RETURN_IF_ERROR(db_->Exec(kJobsTable));
    SLUICE_ASSIGN_OR_RETURN(SqliteStatement * columns,
                            db_->Prepare("SELECT count(*) FROM pragma_table_info('jobs') WHERE name = 'object'"));
    SLUICE_ASSIGN_OR_RETURN(bool row, columns->Step());
    const bool has_object = row && columns->Int(0) > 0;
    SLUICE_RETURN_IF_ERROR(columns->Run());
    if (!has_object) {
      // Filled from the stored events, so that old jobs of different keys still run side by side.
      SLUICE_RETURN_IF_ERROR(db_->Exec(
          "ALTER TABLE jobs ADD COLUMN object TEXT NOT NULL DEFAULT '';"
          "UPDATE jobs SET object = coalesce(json_extract(event, '$.store'), '') || char(31) || "
          "coalesce(json_extract(event, '$.key'), '')"));
    }
    return db_->Exec(kSchema);
  }

  Result<int> Enqueue(std::span<const NewJob> jobs) override {
    std::lock_guard lock(mutex_);
    int added = 0;
    const std::int64_t now = NowMs();
    SLUICE_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(
          SqliteStatement * insert,
          db_->Prepare("INSERT OR IGNORE INTO jobs (route, dedupe_key, event, state, max_attempts, "
                       "not_before_ms, created_ms, updated_ms, object) "
                       "VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)"));
      for (const auto& job : jobs) {
        if (!job.event.sequencer.empty()) SLUICE_RETURN_IF_ERROR(RememberSequencerLocked(job));
        insert->Reset();
        insert->Bind(8, std::string_view(ObjectOf(job.event)));
        insert->Bind(1, std::string_view(job.route));
        insert->Bind(2, std::string_view(job.dedupe_key));
        insert->Bind(3, std::string_view(job.event.ToJson().dump()));
        insert->Bind(4, static_cast<std::int64_t>(job.max_attempts));
        insert->Bind(5, now);
        insert->Bind(6, now);
        insert->Bind(7, now);
        SLUICE_RETURN_IF_ERROR(insert->Run());
        added += static_cast<int>(db_->Changes());
      }
      return Ok();
    }));
    return added;
  }

  Result<std::vector<Job>> ClaimBatch(std::string_view route, std::string_view owner,
                                      std::chrono::milliseconds lease, int max_jobs) override {
    std::lock_guard lock(mutex_);
    const std::int64_t now = NowMs();
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * claim,
        db_->Prepare(fmt::format(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?1, "
            "lease_expires_ms = ?2, updated_ms = ?3 WHERE id IN (SELECT j.id FROM jobs AS j "
            "WHERE j.route = ?4 AND j.state IN ('pending', 'failed') AND j.not_before_ms <= ?3 "
            "AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.state = 'running' AND "
            "r.route = j.route AND r.object = j.object) "
            "ORDER BY j.not_before_ms LIMIT ?5) RETURNING {}",
            kColumns)));
    claim->Bind(1, owner);
    claim->Bind(2, now + lease.count());
    claim->Bind(3, now);
    claim->Bind(4, route);
    claim->Bind(5, static_cast<std::int64_t>(std::max(max_jobs, 1)));
    std::vector<Job> jobs;
    SLUICE_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
      while (true) {
        SLUICE_ASSIGN_OR_RETURN(bool row, claim->Step());
        if (!row) break;
        SLUICE_ASSIGN_OR_RETURN(Job job, ReadJob(*claim));
        jobs.push_back(std::move(job));
      }
      SLUICE_ASSIGN_OR_RETURN(
          SqliteStatement * attempt,
          db_->Prepare("INSERT INTO attempts (job_id, number, owner, started_ms) VALUES (?, ?, ?, ?)"));
      for (Job& job : jobs) {
        if (!job.event.sequencer.empty()) {
          SLUICE_ASSIGN_OR_RETURN(job.newest_sequencer, NewestSequencerLocked(job.route, job.event));
        }
        attempt->Reset();
        attempt->Bind(1, job.id);
        attempt->Bind(2, static_cast<std::int64_t>(job.attempts));
        attempt->Bind(3, owner);
        attempt->Bind(4, now);
        SLUICE_RETURN_IF_ERROR(attempt->Run());
      }
      return Ok();
    }));
    // RETURNING gives rows in no particular order; hand them out oldest first.
    std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
      return a.not_before < b.not_before || (a.not_before == b.not_before && a.id < b.id);
    });
    return jobs;
  }

  Status ExtendLeases(std::span<const std::int64_t> ids, std::string_view owner,
                      std::chrono::milliseconds lease) override {
    std::lock_guard lock(mutex_);
    const std::int64_t expires = NowMs() + lease.count();
    return InTransaction(*db_, [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(
          SqliteStatement * extend,
          db_->Prepare("UPDATE jobs SET lease_expires_ms = ? WHERE id = ? AND lease_owner = ? "
                       "AND state = 'running'"));
      for (std::int64_t id : ids) {
        extend->Reset();
        extend->Bind(1, expires);
        extend->Bind(2, id);
        extend->Bind(3, owner);
        SLUICE_RETURN_IF_ERROR(extend->Run());
      }
      return Ok();
    });
  }

  Result<int> SucceedBatch(std::span<const std::int64_t> ids, std::string_view owner) override {
    std::lock_guard lock(mutex_);
    int done_count = 0;
    SLUICE_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(
          SqliteStatement * done,
          db_->Prepare("UPDATE jobs SET state = 'succeeded', lease_owner = NULL, "
                       "lease_expires_ms = 0, last_error = '', updated_ms = ? "
                       "WHERE id = ? AND lease_owner = ? AND state = 'running'"));
      const std::int64_t now = NowMs();
      for (std::int64_t id : ids) {
        done->Reset();
        done->Bind(1, now);
        done->Bind(2, id);
        done->Bind(3, owner);
        SLUICE_RETURN_IF_ERROR(done->Run());
        if (db_->Changes() == 0) continue;
        ++done_count;
        SLUICE_RETURN_IF_ERROR(EndAttemptLocked(id, owner, now, AttemptOutcome::Succeeded, ""));
      }
      return Ok();
    }));
    return done_count;
  }

  Result<std::optional<JobState>> FailAttempt(
      std::int64_t id, std::string_view owner, std::string_view error,
      std::optional<std::chrono::milliseconds> retry_after) override {
    std::lock_guard lock(mutex_);
    const std::int64_t now = NowMs();
    std::optional<JobState> result;
    SLUICE_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(
          SqliteStatement * fail,
          db_->Prepare("UPDATE jobs SET state = CASE WHEN ?1 < 0 OR attempts >= max_attempts "
                       "THEN 'dead' ELSE 'failed' END, not_before_ms = ?2 + max(?1, 0), "
                       "lease_owner = NULL, lease_expires_ms = 0, last_error = ?3, updated_ms = ?2 "
                       "WHERE id = ?4 AND lease_owner = ?5 AND state = 'running' RETURNING state"));
      fail->Bind(1, retry_after ? static_cast<std::int64_t>(retry_after->count()) : std::int64_t{-1});
      fail->Bind(2, now);
      fail->Bind(3, error);
      fail->Bind(4, id);
      fail->Bind(5, owner);
      SLUICE_ASSIGN_OR_RETURN(bool row, fail->Step());
      if (!row) return Ok();
      SLUICE_ASSIGN_OR_RETURN(JobState state, ParseJobState(fail->Text(0)));
      SLUICE_RETURN_IF_ERROR(fail->Run());
      result = state;
      return EndAttemptLocked(
          id, owner, now, state == JobState::Dead ? AttemptOutcome::Dead : AttemptOutcome::Failed,
          error);
    }));
    return result;
  }

  Status Release(std::int64_t id, std::string_view owner) override {
    std::lock_guard lock(mutex_);
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * release,
        db_->Prepare("UPDATE jobs SET state = 'pending', attempts = max(attempts - 1, 0), "
                     "lease_owner = NULL, lease_expires_ms = 0, updated_ms = ?1, not_before_ms = ?1 "
                     "WHERE id = ?2 AND lease_owner = ?3 AND state = 'running'"));
    const std::int64_t now = NowMs();
    return InTransaction(*db_, [&]() -> Status {
      release->Bind(1, now);
      release->Bind(2, id);
      release->Bind(3, owner);
      SLUICE_RETURN_IF_ERROR(release->Run());
      if (db_->Changes() == 0) return Ok();
      return EndAttemptLocked(id, owner, now, AttemptOutcome::Released, "");
    });
  }

  Result<int> RecoverExpiredLeases() override {
    std::lock_guard lock(mutex_);
    const std::int64_t now = NowMs();
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * recover,
        db_->Prepare("UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' "
                     "ELSE 'pending' END, last_error = 'lease expired: the worker stopped "
                     "during attempt ' || attempts, lease_owner = NULL, lease_expires_ms = 0, "
                     "not_before_ms = ?1, updated_ms = ?1 "
                     "WHERE state = 'running' AND lease_expires_ms <= ?1"));
    int recovered = 0;
    SLUICE_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(
          SqliteStatement * end,
          db_->Prepare("UPDATE attempts SET ended_ms = ?1, outcome = 'lease expired', error = "
                       "'lease expired: the worker stopped during the attempt' WHERE outcome = "
                       "'running' AND job_id IN (SELECT id FROM jobs WHERE state = 'running' "
                       "AND lease_expires_ms <= ?1)"));
      end->Bind(1, now);
      SLUICE_RETURN_IF_ERROR(end->Run());
      recover->Bind(1, now);
      SLUICE_RETURN_IF_ERROR(recover->Run());
      recovered = static_cast<int>(db_->Changes());
      return Ok();
    }));
    return recovered;
  }

  Result<std::vector<Job>> List(std::optional<JobState> state, int limit) override {
    std::lock_guard lock(mutex_);
    std::string sql = fmt::format("SELECT {} FROM jobs", kColumns);
    if (state) sql += " WHERE state = ?1";
    sql += " ORDER BY id";
    if (limit > 0) sql += fmt::format(" LIMIT {}", limit);
    SLUICE_ASSIGN_OR_RETURN(SqliteStatement * select, db_->Prepare(sql));
    if (state) select->Bind(1, ToString(*state));
    std::vector<Job> jobs;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, select->Step());
      if (!row) break;
      SLUICE_ASSIGN_OR_RETURN(Job job, ReadJob(*select));
      jobs.push_back(std::move(job));
    }
    return jobs;
  }

  Result<Job> Get(std::int64_t id) override {
    std::lock_guard lock(mutex_);
    return GetLocked(id);
  }

  Result<std::vector<std::int64_t>> Requeue(std::span<const std::int64_t> ids) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> requeued;
    SLUICE_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
      std::vector<std::int64_t> targets(ids.begin(), ids.end());
      if (targets.empty()) {
        SLUICE_ASSIGN_OR_RETURN(SqliteStatement * dead,
                                db_->Prepare("SELECT id FROM jobs WHERE state = 'dead' ORDER BY id"));
        while (true) {
          SLUICE_ASSIGN_OR_RETURN(bool row, dead->Step());
          if (!row) break;
          targets.push_back(dead->Int(0));
        }
      }
      for (std::int64_t id : targets) {
        SLUICE_ASSIGN_OR_RETURN(Job job, GetLocked(id));
        if (job.state != JobState::Dead && job.state != JobState::Failed) {
          return Fail(ErrorCode::InvalidArgument,
                      fmt::format("job {} is {}; only dead or failed jobs can be retried", id,
                                  ToString(job.state)));
        }
        SLUICE_ASSIGN_OR_RETURN(
            SqliteStatement * requeue,
            db_->Prepare("UPDATE jobs SET state = 'pending', attempts = 0, not_before_ms = ?1, "
                         "updated_ms = ?1 WHERE id = ?2"));
        requeue->Bind(1, NowMs());
        requeue->Bind(2, id);
        SLUICE_RETURN_IF_ERROR(requeue->Run());
        requeued.push_back(id);
      }
      return Ok();
    }));
    return requeued;
  }

  Result<std::vector<Attempt>> Attempts(std::int64_t id) override {
    std::lock_guard lock(mutex_);
    SLUICE_RETURN_IF_ERROR(GetLocked(id));
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * select,
        db_->Prepare("SELECT job_id, number, owner, started_ms, ended_ms, outcome, error "
                     "FROM attempts WHERE job_id = ? ORDER BY rowid"));
    select->Bind(1, id);
    std::vector<Attempt> attempts;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, select->Step());
      if (!row) break;
      SLUICE_ASSIGN_OR_RETURN(Attempt attempt, ReadAttempt(*select));
      attempts.push_back(std::move(attempt));
    }
    return attempts;
  }

  Result<int> Purge(JobState state, std::chrono::milliseconds older_than) override {
    if (state != JobState::Dead && state != JobState::Succeeded) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("only dead or succeeded jobs can be purged, not {} ones", ToString(state)),
                  "sqlite queue");
    }
    std::lock_guard lock(mutex_);
    const std::int64_t cutoff = NowMs() - older_than.count();
    int purged = 0;
    SLUICE_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(
          SqliteStatement * history,
          db_->Prepare("DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE state = ?1 "
                       "AND updated_ms < ?2)"));
      history->Bind(1, ToString(state));
      history->Bind(2, cutoff);
      SLUICE_RETURN_IF_ERROR(history->Run());
      SLUICE_ASSIGN_OR_RETURN(SqliteStatement * jobs,
                              db_->Prepare("DELETE FROM jobs WHERE state = ?1 AND updated_ms < ?2"));
      jobs->Bind(1, ToString(state));
      jobs->Bind(2, cutoff);
      SLUICE_RETURN_IF_ERROR(jobs->Run());
      purged = static_cast<int>(db_->Changes());
      return Ok();
    }));
    return purged;
  }

  Result<QueueOverview> Overview(int max_errors) override {
    std::lock_guard lock(mutex_);
    QueueOverview overview;
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * depth,
        db_->Prepare("SELECT route, state, count(*) FROM jobs GROUP BY route, state"));
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, depth->Step());
      if (!row) break;
      SLUICE_ASSIGN_OR_RETURN(JobState state, ParseJobState(depth->Text(1)));
      overview.depth[depth->Text(0)][state] = depth->Int(2);
    }
    const std::int64_t now = NowMs();
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * rates,
        db_->Prepare("SELECT outcome, sum(ended_ms >= ?1), count(*) FROM attempts "
                     "WHERE ended_ms >= ?2 GROUP BY outcome"));
    rates->Bind(1, now - 60'000);
    rates->Bind(2, now - 3'600'000);
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, rates->Step());
      if (!row) break;
      const std::string outcome = rates->Text(0);
      std::int64_t OutcomeCounts::*field = nullptr;
      if (outcome == ToString(AttemptOutcome::Succeeded)) field = &OutcomeCounts::succeeded;
      if (outcome == ToString(AttemptOutcome::Dead)) field = &OutcomeCounts::dead;
      if (outcome == ToString(AttemptOutcome::Failed)) field = &OutcomeCounts::failed;
      if (field == nullptr) continue;
      overview.last_minute.*field = rates->Int(1);
      overview.last_hour.*field = rates->Int(2);
    }
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * errors,
        db_->Prepare("SELECT job_id, number, owner, started_ms, ended_ms, outcome, error "
                     "FROM attempts WHERE error != '' ORDER BY ended_ms DESC LIMIT ?"));
    errors->Bind(1, static_cast<std::int64_t>(std::max(max_errors, 0)));
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, errors->Step());
      if (!row) break;
      SLUICE_ASSIGN_OR_RETURN(Attempt attempt, ReadAttempt(*errors));
      overview.last_errors.push_back(std::move(attempt));
    }
    return overview;
  }

  Result<QueueStats> Stats(std::span<const std::string> routes) override {
    std::lock_guard lock(mutex_);
    QueueStats stats;
    std::string filter;
    for (std::size_t i = 0; i < routes.size(); ++i) {
      filter += fmt::format("{}?{}", i == 0 ? "" : ", ", i + 1);
    }
    if (!filter.empty()) filter = fmt::format(" AND route IN ({})", filter);
    const auto bind_routes = [&](SqliteStatement& stmt) {
      for (std::size_t i = 0; i < routes.size(); ++i) {
        stmt.Bind(static_cast<int>(i + 1), std::string_view(routes[i]));
      }
    };
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * counts,
        db_->Prepare(fmt::format("SELECT state, count(*) FROM jobs WHERE 1{} GROUP BY state", filter)));
    bind_routes(*counts);
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, counts->Step());
      if (!row) break;
      SLUICE_ASSIGN_OR_RETURN(JobState state, ParseJobState(counts->Text(0)));
      stats.counts[state] = counts->Int(1);
    }
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * wake,
        db_->Prepare(fmt::format(
            "SELECT min(t) FROM (SELECT min(not_before_ms) AS t FROM jobs WHERE state IN "
            "('pending', 'failed'){0} UNION ALL SELECT min(lease_expires_ms) FROM jobs "
            "WHERE state = 'running'{0})",
            filter)));
    bind_routes(*wake);
    SLUICE_ASSIGN_OR_RETURN(bool row, wake->Step());
    if (row && !wake->IsNull(0)) stats.next_wakeup = FromMs(wake->Int(0));
    SLUICE_RETURN_IF_ERROR(wake->Run());
    return stats;
  }

 private:
  Result<std::string> NewestSequencerLocked(const std::string& route, const Event& event) {
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * select,
        db_->Prepare("SELECT sequencer FROM sequencers WHERE route = ? AND object = ?"));
    select->Bind(1, std::string_view(route));
    select->Bind(2, std::string_view(ObjectOf(event)));
    SLUICE_ASSIGN_OR_RETURN(bool row, select->Step());
    std::string sequencer = row ? select->Text(0) : std::string();
    SLUICE_RETURN_IF_ERROR(select->Run());
    return sequencer;
  }

  // Keeps the newest sequencer seen for the job's route + object (AWS's ordering rule, which SQL
  // comparison cannot express: CompareSequencers).
  Status RememberSequencerLocked(const NewJob& job) {
    SLUICE_ASSIGN_OR_RETURN(std::string newest, NewestSequencerLocked(job.route, job.event));
    if (!newest.empty() && CompareSequencers(job.event.sequencer, newest) <= 0) return Ok();
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * upsert,
        db_->Prepare("INSERT OR REPLACE INTO sequencers (route, object, sequencer) VALUES (?, ?, ?)"));
    upsert->Bind(1, std::string_view(job.route));
    upsert->Bind(2, std::string_view(ObjectOf(job.event)));
    upsert->Bind(3, std::string_view(job.event.sequencer));
    return upsert->Run();
  }

  // Closes the running attempt of job `id` held by `owner`.
  Status EndAttemptLocked(std::int64_t id, std::string_view owner, std::int64_t now,
                          AttemptOutcome outcome, std::string_view error) {
    SLUICE_ASSIGN_OR_RETURN(
        SqliteStatement * end,
        db_->Prepare("UPDATE attempts SET ended_ms = ?1, outcome = ?2, error = ?3 "
                     "WHERE job_id = ?4 AND owner = ?5 AND outcome = 'running'"));
    end->Bind(1, now);
    end->Bind(2, ToString(outcome));
    end->Bind(3, error);
    end->Bind(4, id);
    end->Bind(5, owner);
    return end->Run();
  }

  Result<Job> GetLocked(std::int64_t id) {
    SLUICE_ASSIGN_OR_RETURN(SqliteStatement * select,
                            db_->Prepare(fmt::format("SELECT {} FROM jobs WHERE id = ?", kColumns)));
    select->Bind(1, id);
    SLUICE_ASSIGN_OR_RETURN(bool row, select->Step());
    if (!row) return Fail(ErrorCode::NotFound, fmt::format("no job {}", id), "sqlite queue");
    SLUICE_ASSIGN_OR_RETURN(Job job, ReadJob(*select));
    SLUICE_RETURN_IF_ERROR(select->Run());
    return job;
  }

  // Columns: job_id, number, owner, started_ms, ended_ms, outcome, error.
  static Result<Attempt> ReadAttempt(const SqliteStatement& row) {
    Attempt attempt;
    attempt.job_id = row.Int(0);
    attempt.number = static_cast<int>(row.Int(1));
    attempt.owner = row.Text(2);
    attempt.started = FromMs(row.Int(3));
    attempt.ended = FromMs(row.Int(4));
    SLUICE_ASSIGN_OR_RETURN(attempt.outcome, ParseAttemptOutcome(row.Text(5)));
    attempt.error = row.Text(6);
    return attempt;
  }

  static Result<Job> ReadJob(const SqliteStatement& row) {
    Job job;
    job.id = row.Int(0);
    job.route = row.Text(1);
    job.dedupe_key = row.Text(2);
    const auto json = nlohmann::json::parse(row.Text(3), nullptr, /*allow_exceptions=*/false);
    SLUICE_ASSIGN_OR_RETURN(job.event, Event::FromJson(json));
    SLUICE_ASSIGN_OR_RETURN(job.state, ParseJobState(row.Text(4)));
    job.attempts = static_cast<int>(row.Int(5));
    job.max_attempts = static_cast<int>(row.Int(6));
    job.not_before = FromMs(row.Int(7));
    job.lease_expires = FromMs(row.Int(8));
    job.last_error = row.Text(9);
    job.created = FromMs(row.Int(10));
    job.updated = FromMs(row.Int(11));
    return job;
  }

  std::mutex mutex_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mutex_
};

}  // namespace

Result<std::optional<Job>> Queue::Claim(std::string_view route, std::string_view owner,
                                        std::chrono::milliseconds lease) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<Job> jobs, ClaimBatch(route, owner, lease, 1));
  if (jobs.empty()) return std::optional<Job>();
  return std::optional<Job>(std::move(jobs.front()));
}

Result<bool> Queue::Succeed(std::int64_t id, std::string_view owner) {
  const std::int64_t ids[] = {id};
  SLUICE_ASSIGN_OR_RETURN(int done, SucceedBatch(ids, owner));
  return done == 1;
}

std::int64_t QueueStats::Open() const {
  std::int64_t open = 0;
  for (JobState state : {JobState::Pending, JobState::Running, JobState::Failed}) {
    const auto it = counts.find(state);
    if (it != counts.end()) open += it->second;
  }
  return open;
}

Result<std::unique_ptr<Queue>> MakeQueue(std::string_view url) {
  SLUICE_ASSIGN_OR_RETURN(Uri uri, ParseUri(url));
  if (uri.scheme == "amqp") return MakeAmqpQueue(url);
  if (uri.scheme != "sqlite") {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("unsupported queue '{}': this build supports sqlite:// and amqp://", uri.scheme),
                uri.Redacted());
  }
  SLUICE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(uri.path));
  auto queue = std::make_unique<SqliteQueue>(std::move(db));
  SLUICE_RETURN_IF_ERROR(queue->Init());
  return std::unique_ptr<Queue>(std::move(queue));
}

}  // namespace sluice
