CREATE TABLE `simulated_mail` (
	`id` text PRIMARY KEY NOT NULL,
	`recipient` text NOT NULL,
	`sender` text NOT NULL,
	`subject` text NOT NULL,
	`text` text NOT NULL,
	`html` text NOT NULL,
	`sent_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `simulated_mail_sent_idx` ON `simulated_mail` (`sent_at`,`id`);--> statement-breakpoint
CREATE TABLE `ticket_emails` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`event_id` text NOT NULL,
	`reason` text NOT NULL,
	`recipient` text NOT NULL,
	`requested_by` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_error` text,
	`next_attempt_at` integer,
	`message_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`sent_at` integer
);
--> statement-breakpoint
CREATE INDEX `ticket_emails_order_idx` ON `ticket_emails` (`order_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `ticket_emails_due_idx` ON `ticket_emails` (`status`,`next_attempt_at`);