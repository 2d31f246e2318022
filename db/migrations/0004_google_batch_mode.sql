CREATE TABLE `google_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`batch_id` text NOT NULL,
	`name` text NOT NULL,
	`model` text NOT NULL,
	`state` text NOT NULL,
	`request_count` integer NOT NULL,
	`succeeded_count` integer DEFAULT 0 NOT NULL,
	`failed_count` integer DEFAULT 0 NOT NULL,
	`item_ids` text NOT NULL,
	`uploaded_files` text NOT NULL,
	`collected` integer DEFAULT false NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `google_jobs_batch` ON `google_jobs` (`batch_id`);--> statement-breakpoint
ALTER TABLE `batches` ADD `mode` text DEFAULT 'standard' NOT NULL;