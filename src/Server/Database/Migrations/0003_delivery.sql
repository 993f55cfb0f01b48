-- Delivery and scheduling, part 2.
--
-- 1. Quartz.NET 4.x job store. 0002 created the 3.x schema; Quartz 4.7.3 validates its schema at start-up and
--    refuses one without the columns and tables 4.x added. These statements bring 0002's tables up to what
--    Quartz 4.7.3 itself provisions (its embedded create_postgres.sql), adding only what is missing so that a
--    database already provisioned by Quartz is left alone.

ALTER TABLE qrtz_triggers
    ADD COLUMN IF NOT EXISTS misfire_orig_fire_time bigint NULL,
    ADD COLUMN IF NOT EXISTS execution_group varchar(200) NULL,
    ADD COLUMN IF NOT EXISTS preferred_node varchar(200) NULL,
    ADD COLUMN IF NOT EXISTS preferred_node_auto boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS retry_policy varchar(250) NULL,
    ADD COLUMN IF NOT EXISTS retry_attempt integer NULL,
    ADD COLUMN IF NOT EXISTS continues_trigger_name text NULL,
    ADD COLUMN IF NOT EXISTS continues_trigger_group text NULL,
    ADD COLUMN IF NOT EXISTS continuation_condition integer NULL,
    ADD COLUMN IF NOT EXISTS overlap_policy integer NULL,
    ADD COLUMN IF NOT EXISTS pause_reason varchar(250) NULL,
    ADD COLUMN IF NOT EXISTS paused_by varchar(200) NULL,
    ADD COLUMN IF NOT EXISTS paused_at bigint NULL,
    ADD COLUMN IF NOT EXISTS misfire_threshold bigint NULL,
    ADD COLUMN IF NOT EXISTS fixed_delay boolean NULL;

ALTER TABLE qrtz_paused_trigger_grps
    ADD COLUMN IF NOT EXISTS pause_reason varchar(250) NULL,
    ADD COLUMN IF NOT EXISTS paused_by varchar(200) NULL,
    ADD COLUMN IF NOT EXISTS paused_at bigint NULL;

CREATE TABLE IF NOT EXISTS qrtz_paused_job_grps (
    sched_name text NOT NULL,
    job_group text NOT NULL,
    pause_reason varchar(250) NULL,
    paused_by varchar(200) NULL,
    paused_at bigint NULL,
    PRIMARY KEY (sched_name, job_group)
);

ALTER TABLE qrtz_fired_triggers
    ADD COLUMN IF NOT EXISTS execution_group varchar(200) NULL,
    ADD COLUMN IF NOT EXISTS progress integer NULL,
    ADD COLUMN IF NOT EXISTS progress_message varchar(250) NULL,
    ADD COLUMN IF NOT EXISTS interrupt_requested_time bigint NULL;

ALTER TABLE qrtz_scheduler_state
    ADD COLUMN IF NOT EXISTS quartz_version varchar(20) NULL;

-- Execution history: used only when a scheduler opts into UseExecutionHistory, created so that it can.
CREATE TABLE IF NOT EXISTS qrtz_execution_history (
    sched_name text NOT NULL,
    entry_id text NOT NULL,
    instance_name text NOT NULL,
    job_name text NOT NULL,
    job_group text NOT NULL,
    trigger_name text NOT NULL,
    trigger_group text NOT NULL,
    fired_time bigint NOT NULL,
    run_time bigint NOT NULL,
    succeeded boolean NOT NULL,
    error_message text NULL,
    retry_attempt integer NOT NULL DEFAULT 0,
    retry_scheduled boolean NOT NULL DEFAULT false,
    execution_log text NULL,
    result integer NULL,
    summary text NULL,
    metrics text NULL,
    manual boolean NULL,
    fire_instance_id text NULL,
    job_input text NULL,
    job_input_too_large boolean NULL,
    PRIMARY KEY (sched_name, entry_id)
);

CREATE TABLE IF NOT EXISTS qrtz_misfire_history (
    sched_name text NOT NULL,
    entry_id text NOT NULL,
    instance_name text NOT NULL,
    trigger_name text NOT NULL,
    trigger_group text NOT NULL,
    job_name text NULL,
    job_group text NULL,
    misfire_time bigint NOT NULL,
    sched_time bigint NULL,
    reason integer NULL,
    PRIMARY KEY (sched_name, entry_id)
);

CREATE TABLE IF NOT EXISTS qrtz_job_status (
    sched_name text NOT NULL,
    job_group text NOT NULL,
    job_name text NOT NULL,
    first_fired_time bigint NOT NULL,
    last_fired_time bigint NOT NULL,
    last_result integer NOT NULL,
    last_run_time bigint NOT NULL,
    last_instance_name text NOT NULL,
    last_entry_id text NULL,
    last_summary text NULL,
    last_success_time bigint NULL,
    last_failure_time bigint NULL,
    last_failure_message text NULL,
    consecutive_failures integer NOT NULL DEFAULT 0,
    run_count bigint NOT NULL DEFAULT 0,
    failure_count bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (sched_name, job_group, job_name)
);

-- The indexes Quartz 4's own queries are shaped for (0002's are kept; they cost little).
CREATE INDEX IF NOT EXISTS idx_qrtz_j_g_n ON qrtz_job_details (sched_name, job_group, job_name);
CREATE INDEX IF NOT EXISTS idx_qrtz_t_j ON qrtz_triggers (sched_name, job_name, job_group);
CREATE INDEX IF NOT EXISTS idx_qrtz_t_g_n ON qrtz_triggers (sched_name, trigger_group, trigger_name);
CREATE INDEX IF NOT EXISTS idx_qrtz_t_c ON qrtz_triggers (sched_name, calendar_name);
CREATE INDEX IF NOT EXISTS idx_qrtz_t_nft_st_p ON qrtz_triggers (sched_name, trigger_state, next_fire_time ASC, priority DESC, misfire_instr);
CREATE INDEX IF NOT EXISTS idx_qrtz_ft_inst_job_req_rcvry ON qrtz_fired_triggers (sched_name, instance_name, requests_recovery);
CREATE INDEX IF NOT EXISTS idx_qrtz_ft_j_g ON qrtz_fired_triggers (sched_name, job_name, job_group);
CREATE INDEX IF NOT EXISTS idx_qrtz_ft_t_g ON qrtz_fired_triggers (sched_name, trigger_name, trigger_group);
CREATE INDEX IF NOT EXISTS idx_qrtz_eh_fired_time ON qrtz_execution_history (sched_name, fired_time);
CREATE INDEX IF NOT EXISTS idx_qrtz_eh_inst ON qrtz_execution_history (sched_name, instance_name);
CREATE INDEX IF NOT EXISTS idx_qrtz_mh_misfire_time ON qrtz_misfire_history (sched_name, misfire_time);
CREATE INDEX IF NOT EXISTS idx_qrtz_mh_inst ON qrtz_misfire_history (sched_name, instance_name);
CREATE INDEX IF NOT EXISTS idx_qrtz_eh_job_time ON qrtz_execution_history (sched_name, job_group, job_name, fired_time);
CREATE INDEX IF NOT EXISTS idx_qrtz_eh_fire_inst ON qrtz_execution_history (sched_name, fire_instance_id);
CREATE INDEX IF NOT EXISTS idx_qrtz_eh_trig_time ON qrtz_execution_history (sched_name, trigger_group, trigger_name, fired_time);

-- 2. Delivery.

-- When the previous attempt was made: the back-off derives its next delay from the one just waited
-- (decorrelated jitter), which is next_attempt_at - last_attempt_at at the time of the attempt.
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS last_attempt_at timestamptz NULL;

-- Opening a host's circuit pushes that host's pending deliveries back in one statement.
CREATE INDEX IF NOT EXISTS deliveries_host_pending ON deliveries (host) WHERE state = 0;

-- Pruning finds old delivered rows and fanned-out outbox rows by time.
CREATE INDEX IF NOT EXISTS outbox_activities_fanned_out ON outbox_activities (fanned_out_at) WHERE fanned_out_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS inbox_activities_processed ON inbox_activities (processed_at) WHERE state <> 0;

ALTER TABLE remote_hosts ADD CONSTRAINT remote_hosts_signature_scheme
    CHECK (signature_scheme IS NULL OR signature_scheme IN ('Cavage', 'Rfc9421'));
