"""PostgreSQL's DDL of migrations 1-13, by step name (frozen: never edit)."""

from __future__ import annotations

POSTGRES: dict[str, tuple[str, ...]] = {
    "core": (
        'CREATE TABLE IF NOT EXISTS "audit_log" ("id" SERIAL NOT NULL PRIMARY KEY, "at" TIMESTAMP NOT NULL, '
        '"fleet" VARCHAR(255), "member" VARCHAR(255), "action" VARCHAR(255) NOT NULL, "resource" VARCHAR(255), '
        '"status" INTEGER NOT NULL, "ip" VARCHAR(255), "count" INTEGER NOT NULL)',
        'CREATE INDEX IF NOT EXISTS "audit_log_at" ON "audit_log" ("at")',
        'CREATE INDEX IF NOT EXISTS "audit_log_fleet_at" ON "audit_log" ("fleet", "at")',
        'CREATE TABLE IF NOT EXISTS "fleet" ("id" SERIAL NOT NULL PRIMARY KEY, "name" VARCHAR(40) NOT NULL, '
        '"rate_limit" INTEGER NOT NULL, "created_at" TIMESTAMP NOT NULL, "quota_bytes" BIGINT NOT NULL, '
        '"usage_bytes" BIGINT NOT NULL)',
        'CREATE UNIQUE INDEX IF NOT EXISTS "fleet_name" ON "fleet" ("name")',
        'CREATE TABLE IF NOT EXISTS "member" ("id" SERIAL NOT NULL PRIMARY KEY, "fleet_id" INTEGER NOT NULL, '
        '"name" VARCHAR(63) NOT NULL, "role" VARCHAR(10) NOT NULL, "domains" TEXT NOT NULL, "cross_fleet" '
        'BOOLEAN NOT NULL, "allow_fleets" TEXT NOT NULL, "rate_limit" INTEGER NOT NULL, "created_at" TIMESTAMP '
        'NOT NULL, "revoked_at" TIMESTAMP, FOREIGN KEY ("fleet_id") REFERENCES "fleet" ("id") ON DELETE '
        "CASCADE)",
        'CREATE INDEX IF NOT EXISTS "member_fleet_id" ON "member" ("fleet_id")',
        'CREATE UNIQUE INDEX IF NOT EXISTS "member_fleet_id_name" ON "member" ("fleet_id", "name")',
        'CREATE TABLE IF NOT EXISTS "change" ("seq" BIGSERIAL NOT NULL PRIMARY KEY, "fleet_id" INTEGER NOT '
        'NULL, "kind" VARCHAR(20) NOT NULL, "ref_id" INTEGER NOT NULL, "member_id" INTEGER, "event" '
        'VARCHAR(30) NOT NULL, "created_at" TIMESTAMP NOT NULL, "stream" VARCHAR(120), "note" TEXT, "actor" '
        'BIGINT, FOREIGN KEY ("fleet_id") REFERENCES "fleet" ("id") ON DELETE CASCADE, FOREIGN KEY '
        '("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)',
        'CREATE INDEX IF NOT EXISTS "change_fleet_id" ON "change" ("fleet_id")',
        'CREATE INDEX IF NOT EXISTS "change_member_id" ON "change" ("member_id")',
        'CREATE INDEX IF NOT EXISTS "change_member_id_seq" ON "change" ("member_id", "seq")',
        'CREATE INDEX IF NOT EXISTS "change_kind_seq" ON "change" ("kind", "seq")',
        'CREATE TABLE IF NOT EXISTS "item_domain" ("kind" VARCHAR(20) NOT NULL, "item_id" INTEGER NOT NULL, '
        '"domain" VARCHAR(63) NOT NULL)',
        'CREATE UNIQUE INDEX IF NOT EXISTS "item_domain_kind_domain_item_id" ON "item_domain" ("kind", '
        '"domain", "item_id")',
        'CREATE INDEX IF NOT EXISTS "item_domain_kind_item_id" ON "item_domain" ("kind", "item_id")',
        'CREATE TABLE IF NOT EXISTS "token" ("id" SERIAL NOT NULL PRIMARY KEY, "fleet_id" INTEGER NOT NULL, '
        '"member_id" INTEGER NOT NULL, "secret_hash" TEXT NOT NULL, "created_at" TIMESTAMP NOT NULL, '
        '"revoked_at" TIMESTAMP, FOREIGN KEY ("fleet_id") REFERENCES "fleet" ("id") ON DELETE CASCADE, FOREIGN '
        'KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)',
        'CREATE INDEX IF NOT EXISTS "token_fleet_id" ON "token" ("fleet_id")',
        'CREATE INDEX IF NOT EXISTS "token_member_id" ON "token" ("member_id")',
    ),
    "knowledge": (
        'CREATE TABLE IF NOT EXISTS "knowledge" ("id" SERIAL NOT NULL PRIMARY KEY, "fleet_id" INTEGER NOT '
        'NULL, "author_id" INTEGER NOT NULL, "kind" VARCHAR(10) NOT NULL, "title" VARCHAR(300) NOT NULL, '
        '"body" TEXT NOT NULL, "domains" TEXT NOT NULL, "tagged" BOOLEAN NOT NULL, "visibility" VARCHAR(12) '
        'NOT NULL, "state" VARCHAR(12) NOT NULL, "pinned" BOOLEAN NOT NULL, "created_at" TIMESTAMP NOT NULL, '
        '"expires_at" TIMESTAMP, "supersedes" INTEGER, "superseded_by" INTEGER, FOREIGN KEY ("fleet_id") '
        'REFERENCES "fleet" ("id") ON DELETE CASCADE, FOREIGN KEY ("author_id") REFERENCES "member" ("id") ON '
        "DELETE CASCADE)",
        'CREATE INDEX IF NOT EXISTS "knowledge_fleet_id" ON "knowledge" ("fleet_id")',
        'CREATE INDEX IF NOT EXISTS "knowledge_author_id" ON "knowledge" ("author_id")',
        'CREATE INDEX IF NOT EXISTS "knowledge_fleet_id_state_pinned_id" ON "knowledge" ("fleet_id", "state", '
        '"pinned", "id")',
        'CREATE INDEX IF NOT EXISTS "knowledge_fleet_id_state_tagged_pinned_id" ON "knowledge" ("fleet_id", '
        '"state", "tagged", "pinned", "id")',
        'CREATE INDEX IF NOT EXISTS "knowledge_visibility_state_pinned_id" ON "knowledge" ("visibility", '
        '"state", "pinned", "id")',
        'CREATE INDEX IF NOT EXISTS "knowledge_state_expires_at" ON "knowledge" ("state", "expires_at")',
        "CREATE INDEX IF NOT EXISTS knowledge_fulltext ON knowledge USING GIN (to_tsvector('english', title || "
        "' ' || body))",
    ),
    "tasks": (
        'CREATE TABLE IF NOT EXISTS "task" ("id" SERIAL NOT NULL PRIMARY KEY, "fleet_id" INTEGER NOT NULL, '
        '"title" TEXT NOT NULL, "body" TEXT NOT NULL, "domains" TEXT NOT NULL, "priority" VARCHAR(10) NOT '
        'NULL, "state" VARCHAR(20) NOT NULL, "creator_id" INTEGER NOT NULL, "assignee_id" INTEGER, "review" '
        'VARCHAR(10) NOT NULL, "depends_on" TEXT NOT NULL, "visibility" VARCHAR(20) NOT NULL, "links" TEXT NOT '
        'NULL, "version" INTEGER NOT NULL, "created_at" TIMESTAMP NOT NULL, "updated_at" TIMESTAMP NOT NULL, '
        'FOREIGN KEY ("fleet_id") REFERENCES "fleet" ("id") ON DELETE CASCADE, FOREIGN KEY ("creator_id") '
        'REFERENCES "member" ("id") ON DELETE CASCADE, FOREIGN KEY ("assignee_id") REFERENCES "member" ("id") '
        "ON DELETE CASCADE)",
        'CREATE INDEX IF NOT EXISTS "task_fleet_id" ON "task" ("fleet_id")',
        'CREATE INDEX IF NOT EXISTS "task_creator_id" ON "task" ("creator_id")',
        'CREATE INDEX IF NOT EXISTS "task_assignee_id" ON "task" ("assignee_id")',
        'CREATE INDEX IF NOT EXISTS "task_fleet_id_state" ON "task" ("fleet_id", "state")',
        'CREATE INDEX IF NOT EXISTS "task_assignee_id_state" ON "task" ("assignee_id", "state")',
        'CREATE TABLE IF NOT EXISTS "task_dependency" ("task_id" INTEGER NOT NULL, "depends_on_id" INTEGER NOT '
        'NULL, FOREIGN KEY ("task_id") REFERENCES "task" ("id") ON DELETE CASCADE, FOREIGN KEY '
        '("depends_on_id") REFERENCES "task" ("id") ON DELETE CASCADE)',
        'CREATE INDEX IF NOT EXISTS "task_dependency_task_id" ON "task_dependency" ("task_id")',
        'CREATE INDEX IF NOT EXISTS "task_dependency_depends_on_id" ON "task_dependency" ("depends_on_id")',
        'CREATE UNIQUE INDEX IF NOT EXISTS "task_dependency_task_id_depends_on_id" ON "task_dependency" '
        '("task_id", "depends_on_id")',
        'CREATE TABLE IF NOT EXISTS "task_history" ("id" SERIAL NOT NULL PRIMARY KEY, "task_id" INTEGER NOT '
        'NULL, "member_id" INTEGER NOT NULL, "who" VARCHAR(110) NOT NULL, "action" VARCHAR(20) NOT NULL, '
        '"from_state" VARCHAR(20), "to_state" VARCHAR(20) NOT NULL, "note" TEXT NOT NULL, "at" TIMESTAMP NOT '
        'NULL, FOREIGN KEY ("task_id") REFERENCES "task" ("id") ON DELETE CASCADE, FOREIGN KEY ("member_id") '
        'REFERENCES "member" ("id") ON DELETE CASCADE)',
        'CREATE INDEX IF NOT EXISTS "task_history_task_id" ON "task_history" ("task_id")',
        'CREATE INDEX IF NOT EXISTS "task_history_member_id" ON "task_history" ("member_id")',
    ),
    "messages": (
        'CREATE TABLE IF NOT EXISTS "messages" ("id" SERIAL NOT NULL PRIMARY KEY, "fleet_id" INTEGER NOT NULL, '
        '"sender_id" INTEGER NOT NULL, "subject" VARCHAR(300) NOT NULL, "body" TEXT NOT NULL, "domains" TEXT '
        'NOT NULL, "thread" INTEGER, "reply_to_id" INTEGER, "created_at" TIMESTAMP NOT NULL, FOREIGN KEY '
        '("fleet_id") REFERENCES "fleet" ("id") ON DELETE CASCADE, FOREIGN KEY ("sender_id") REFERENCES '
        '"member" ("id") ON DELETE CASCADE, FOREIGN KEY ("reply_to_id") REFERENCES "messages" ("id") ON DELETE '
        "SET NULL)",
        'CREATE INDEX IF NOT EXISTS "messages_fleet_id" ON "messages" ("fleet_id")',
        'CREATE INDEX IF NOT EXISTS "messages_sender_id" ON "messages" ("sender_id")',
        'CREATE INDEX IF NOT EXISTS "messages_thread" ON "messages" ("thread")',
        'CREATE INDEX IF NOT EXISTS "messages_reply_to_id" ON "messages" ("reply_to_id")',
        'CREATE TABLE IF NOT EXISTS "message_deliveries" ("id" SERIAL NOT NULL PRIMARY KEY, "message_id" '
        'INTEGER NOT NULL, "recipient_id" INTEGER NOT NULL, "delivered_at" TIMESTAMP, "read_at" TIMESTAMP, '
        'FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON DELETE CASCADE, FOREIGN KEY '
        '("recipient_id") REFERENCES "member" ("id") ON DELETE CASCADE)',
        'CREATE INDEX IF NOT EXISTS "message_deliveries_message_id" ON "message_deliveries" ("message_id")',
        'CREATE INDEX IF NOT EXISTS "message_deliveries_recipient_id" ON "message_deliveries" ("recipient_id")',
        'CREATE UNIQUE INDEX IF NOT EXISTS "message_deliveries_recipient_id_message_id" ON '
        '"message_deliveries" ("recipient_id", "message_id")',
    ),
    "research": (
        'CREATE TABLE IF NOT EXISTS "research" ("id" SERIAL NOT NULL PRIMARY KEY, "fleet_id" INTEGER NOT NULL, '
        '"author_id" INTEGER NOT NULL, "title" TEXT NOT NULL, "question" TEXT NOT NULL, "body" TEXT NOT NULL, '
        '"confidence" REAL NOT NULL, "sources" TEXT NOT NULL, "task_id" INTEGER, "domains" TEXT NOT NULL, '
        '"visibility" VARCHAR(12) NOT NULL, "state" VARCHAR(20) NOT NULL, "revision" INTEGER NOT NULL, '
        '"created_at" TIMESTAMP NOT NULL, "updated_at" TIMESTAMP NOT NULL, FOREIGN KEY ("fleet_id") REFERENCES '
        '"fleet" ("id") ON DELETE CASCADE, FOREIGN KEY ("author_id") REFERENCES "member" ("id") ON DELETE '
        'CASCADE, FOREIGN KEY ("task_id") REFERENCES "task" ("id") ON DELETE SET NULL)',
        'CREATE INDEX IF NOT EXISTS "research_fleet_id" ON "research" ("fleet_id")',
        'CREATE INDEX IF NOT EXISTS "research_author_id" ON "research" ("author_id")',
        'CREATE INDEX IF NOT EXISTS "research_task_id" ON "research" ("task_id")',
        'CREATE INDEX IF NOT EXISTS "research_fleet_id_state" ON "research" ("fleet_id", "state")',
        'CREATE TABLE IF NOT EXISTS "research_review" ("id" SERIAL NOT NULL PRIMARY KEY, "research_id" INTEGER '
        'NOT NULL, "reviewer_id" INTEGER NOT NULL, "verdict" VARCHAR(20) NOT NULL, "comment" TEXT NOT NULL, '
        '"revision" INTEGER NOT NULL, "created_at" TIMESTAMP NOT NULL, FOREIGN KEY ("research_id") REFERENCES '
        '"research" ("id") ON DELETE CASCADE, FOREIGN KEY ("reviewer_id") REFERENCES "member" ("id") ON DELETE '
        "CASCADE)",
        'CREATE INDEX IF NOT EXISTS "research_review_research_id" ON "research_review" ("research_id")',
        'CREATE INDEX IF NOT EXISTS "research_review_reviewer_id" ON "research_review" ("reviewer_id")',
        'CREATE TABLE IF NOT EXISTS "research_reviewer" ("id" SERIAL NOT NULL PRIMARY KEY, "research_id" '
        'INTEGER NOT NULL, "member_id" INTEGER NOT NULL, FOREIGN KEY ("research_id") REFERENCES "research" '
        '("id") ON DELETE CASCADE, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)',
        'CREATE INDEX IF NOT EXISTS "research_reviewer_research_id" ON "research_reviewer" ("research_id")',
        'CREATE INDEX IF NOT EXISTS "research_reviewer_member_id" ON "research_reviewer" ("member_id")',
        'CREATE UNIQUE INDEX IF NOT EXISTS "research_reviewer_research_id_member_id" ON "research_reviewer" '
        '("research_id", "member_id")',
        'CREATE INDEX IF NOT EXISTS "research_reviewer_member_id_research_id" ON "research_reviewer" '
        '("member_id", "research_id")',
    ),
    "documents": (
        'CREATE TABLE IF NOT EXISTS "document" ("id" SERIAL NOT NULL PRIMARY KEY, "fleet_id" INTEGER NOT NULL, '
        '"name" VARCHAR(63) NOT NULL, "title" TEXT NOT NULL, "visibility" VARCHAR(12) NOT NULL, "domains" TEXT '
        'NOT NULL, "version" INTEGER NOT NULL, "created_at" TIMESTAMP NOT NULL, "updated_at" TIMESTAMP NOT '
        'NULL, "updated_by_id" INTEGER, FOREIGN KEY ("fleet_id") REFERENCES "fleet" ("id") ON DELETE CASCADE, '
        'FOREIGN KEY ("updated_by_id") REFERENCES "member" ("id") ON DELETE SET NULL)',
        'CREATE INDEX IF NOT EXISTS "document_fleet_id" ON "document" ("fleet_id")',
        'CREATE INDEX IF NOT EXISTS "document_updated_by_id" ON "document" ("updated_by_id")',
        'CREATE UNIQUE INDEX IF NOT EXISTS "document_fleet_id_name" ON "document" ("fleet_id", "name")',
        'CREATE TABLE IF NOT EXISTS "document_version" ("id" SERIAL NOT NULL PRIMARY KEY, "document_id" '
        'INTEGER NOT NULL, "version" INTEGER NOT NULL, "body" TEXT NOT NULL, "author_id" INTEGER, "message" '
        'TEXT NOT NULL, "created_at" TIMESTAMP NOT NULL, FOREIGN KEY ("document_id") REFERENCES "document" '
        '("id") ON DELETE CASCADE, FOREIGN KEY ("author_id") REFERENCES "member" ("id") ON DELETE SET NULL)',
        'CREATE INDEX IF NOT EXISTS "document_version_document_id" ON "document_version" ("document_id")',
        'CREATE INDEX IF NOT EXISTS "document_version_author_id" ON "document_version" ("author_id")',
        'CREATE UNIQUE INDEX IF NOT EXISTS "document_version_document_id_version" ON "document_version" '
        '("document_id", "version")',
    ),
    "wake": (
        'CREATE TABLE IF NOT EXISTS "wake_cursor" ("member_id" INTEGER NOT NULL PRIMARY KEY, "cursor" BIGINT '
        'NOT NULL, "updated_at" TIMESTAMP NOT NULL, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON '
        "DELETE CASCADE)",
        'CREATE INDEX IF NOT EXISTS change_member_kind_seq ON "change" (member_id, kind, seq)',
        'CREATE INDEX IF NOT EXISTS change_fleet_kind_seq ON "change" (fleet_id, kind, seq)',
    ),
    "ratelimit": (
        'CREATE TABLE IF NOT EXISTS "rate_counter" ("key" VARCHAR(80) NOT NULL, "period" BIGINT NOT NULL, '
        '"node" VARCHAR(80) NOT NULL, "hits" INTEGER NOT NULL, PRIMARY KEY ("key", "period", "node"))',
        'CREATE INDEX IF NOT EXISTS "rate_counter_period" ON "rate_counter" ("period")',
    ),
    "wake_streams": (
        'CREATE INDEX IF NOT EXISTS change_stream_seq ON "change" (stream, seq)',
        "DROP INDEX IF EXISTS change_member_kind_seq",
        "DROP INDEX IF EXISTS change_fleet_kind_seq",
        'CREATE TABLE IF NOT EXISTS "wake_marks" ("member_id" INTEGER NOT NULL PRIMARY KEY, "breaking" BIGINT '
        'NOT NULL, "messages" BIGINT NOT NULL, "tasks" BIGINT NOT NULL, "research" BIGINT NOT NULL, '
        '"knowledge" BIGINT NOT NULL, "documents" BIGINT NOT NULL, "updated_at" TIMESTAMP NOT NULL, FOREIGN '
        'KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)',
    ),
    "idempotency": (
        'CREATE TABLE IF NOT EXISTS "idempotent_answer" ("id" BIGSERIAL NOT NULL PRIMARY KEY, "member_id" '
        'INTEGER NOT NULL, "key" VARCHAR(255) NOT NULL, "fingerprint" VARCHAR(64) NOT NULL, "token_id" INTEGER '
        'NOT NULL, "status" INTEGER NOT NULL, "body" TEXT NOT NULL, "sealed" BOOLEAN NOT NULL, "created_at" '
        "TIMESTAMP NOT NULL)",
        'CREATE INDEX IF NOT EXISTS "idempotent_answer_created_at" ON "idempotent_answer" ("created_at")',
        'CREATE UNIQUE INDEX IF NOT EXISTS "idempotent_answer_member_id_key" ON "idempotent_answer" '
        '("member_id", "key")',
    ),
    "console": (
        'CREATE TABLE IF NOT EXISTS "console_session" ("key" VARCHAR(64) NOT NULL PRIMARY KEY, "member_id" '
        'INTEGER NOT NULL, "token_id" INTEGER NOT NULL, "token_key" VARCHAR(64) NOT NULL, "csrf" VARCHAR(64) '
        'NOT NULL, "created_at" TIMESTAMP NOT NULL, "expires_at" TIMESTAMP NOT NULL, FOREIGN KEY ("member_id") '
        'REFERENCES "member" ("id") ON DELETE CASCADE)',
        'CREATE INDEX IF NOT EXISTS "console_session_member_id" ON "console_session" ("member_id")',
        'CREATE INDEX IF NOT EXISTS "console_session_expires_at" ON "console_session" ("expires_at")',
    ),
}
