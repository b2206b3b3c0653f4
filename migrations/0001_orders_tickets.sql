CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`reservation_id` text NOT NULL,
	`lead_tier_id` text NOT NULL,
	`status` text NOT NULL,
	`email` text NOT NULL,
	`name` text,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`items` text NOT NULL,
	`token_hash` text NOT NULL,
	`stripe_session_id` text,
	`checkout_url` text,
	`payment_intent_id` text,
	`version` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`paid_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `orders_reservation_idx` ON `orders` (`reservation_id`);--> statement-breakpoint
CREATE INDEX `orders_event_idx` ON `orders` (`event_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `orders_token_idx` ON `orders` (`token_hash`);--> statement-breakpoint
CREATE INDEX `orders_session_idx` ON `orders` (`stripe_session_id`);--> statement-breakpoint
CREATE TABLE `tickets` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`event_id` text NOT NULL,
	`tier_id` text NOT NULL,
	`seat` text,
	`code` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tickets_code_idx` ON `tickets` (`code`);--> statement-breakpoint
CREATE INDEX `tickets_order_idx` ON `tickets` (`order_id`);--> statement-breakpoint
CREATE INDEX `tickets_event_idx` ON `tickets` (`event_id`,`updated_at`);--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`received_at` integer NOT NULL,
	`processed_at` integer
);
