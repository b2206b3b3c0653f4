CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`at` integer NOT NULL,
	`action` text NOT NULL,
	`actor_type` text NOT NULL,
	`actor_id` text,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`data` text NOT NULL,
	`ip` text,
	`user_agent` text,
	`request_id` text
);
--> statement-breakpoint
CREATE INDEX `audit_event_at_idx` ON `audit_log` (`event_id`,`at`,`id`);--> statement-breakpoint
CREATE INDEX `audit_event_action_at_idx` ON `audit_log` (`event_id`,`action`,`at`,`id`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer,
	`timezone` text NOT NULL,
	`currency` text NOT NULL,
	`max_tickets_per_order` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`scope_key` text PRIMARY KEY NOT NULL,
	`request_hash` text NOT NULL,
	`state` text NOT NULL,
	`locked_until` integer NOT NULL,
	`response_status` integer,
	`response_body` text,
	`response_content_type` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idempotency_created_idx` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `reservations` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`lead_tier_id` text NOT NULL,
	`session_id` text,
	`token_hash` text NOT NULL,
	`status` text NOT NULL,
	`items` text NOT NULL,
	`expires_at` integer NOT NULL,
	`extensions_used` integer NOT NULL,
	`max_extensions` integer NOT NULL,
	`extension_seconds` integer NOT NULL,
	`version` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `reservations_event_idx` ON `reservations` (`event_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `reservations_token_idx` ON `reservations` (`token_hash`);--> statement-breakpoint
CREATE TABLE `session_claims` (
	`event_id` text NOT NULL,
	`session_id` text NOT NULL,
	`reservation_id` text NOT NULL,
	`claimed_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `session_id`)
);
--> statement-breakpoint
CREATE TABLE `tiers` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`position` integer NOT NULL,
	`name` text NOT NULL,
	`price` integer NOT NULL,
	`kind` text NOT NULL,
	`capacity` integer NOT NULL,
	`seats` text,
	`max_per_order` integer NOT NULL,
	`sales_start_at` integer,
	`sales_end_at` integer,
	`hold_seconds` integer NOT NULL,
	`max_extensions` integer NOT NULL,
	`extension_seconds` integer NOT NULL,
	`version` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `tiers_event_idx` ON `tiers` (`event_id`,`position`);