CREATE TABLE `checkins` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`ticket_id` text,
	`scanner_id` text NOT NULL,
	`nonce` text,
	`offline` integer NOT NULL,
	`direction` text NOT NULL,
	`gate` text,
	`scanned_at` integer NOT NULL,
	`recorded_at` integer NOT NULL,
	`position` integer NOT NULL,
	`result` text NOT NULL,
	`conflict` integer NOT NULL,
	`first_checked_in_at` integer,
	`flagged` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `checkins_nonce_idx` ON `checkins` (`scanner_id`,`nonce`);--> statement-breakpoint
CREATE INDEX `checkins_ticket_idx` ON `checkins` (`ticket_id`,`scanned_at`);--> statement-breakpoint
CREATE INDEX `checkins_event_idx` ON `checkins` (`event_id`,`result`,`gate`);--> statement-breakpoint
CREATE TABLE `scanners` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`name` text NOT NULL,
	`gate` text,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `scanners_event_idx` ON `scanners` (`event_id`,`created_at`);--> statement-breakpoint
DROP INDEX `tickets_event_idx`;--> statement-breakpoint
ALTER TABLE `tickets` ADD `first_checked_in_at` integer;--> statement-breakpoint
ALTER TABLE `tickets` ADD `checked_in_at` integer;--> statement-breakpoint
ALTER TABLE `tickets` ADD `checkin_gate` text;--> statement-breakpoint
ALTER TABLE `tickets` ADD `checkin_scanner_id` text;--> statement-breakpoint
ALTER TABLE `tickets` ADD `last_scan_id` text;--> statement-breakpoint
CREATE INDEX `tickets_event_updated_idx` ON `tickets` (`event_id`,`updated_at`,`id`);