CREATE TABLE `client_holds` (
	`reservation_id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`client` text NOT NULL,
	`quantity` integer NOT NULL,
	`claimed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `client_holds_client_idx` ON `client_holds` (`event_id`,`client`);--> statement-breakpoint
CREATE TABLE `pass_claims` (
	`reservation_id` text PRIMARY KEY NOT NULL,
	`entry_id` text NOT NULL,
	`event_id` text NOT NULL,
	`claimed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pass_claims_entry_idx` ON `pass_claims` (`entry_id`);--> statement-breakpoint
ALTER TABLE `events` ADD `max_held_per_client` integer DEFAULT 20 NOT NULL;--> statement-breakpoint
ALTER TABLE `events` ADD `queue` text;