CREATE TABLE `batches` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`title` text NOT NULL,
	`model` text NOT NULL,
	`settings` text NOT NULL,
	`status` text NOT NULL,
	`status_message` text,
	`item_count` integer NOT NULL,
	`succeeded_count` integer DEFAULT 0 NOT NULL,
	`failed_count` integer DEFAULT 0 NOT NULL,
	`estimated_cost_usd` real,
	`actual_cost_usd` real DEFAULT 0 NOT NULL,
	`budget_usd` real,
	`price_list_date` text
);
--> statement-breakpoint
CREATE INDEX `batches_workspace_created` ON `batches` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `batches_status` ON `batches` (`status`);--> statement-breakpoint
CREATE TABLE `images` (
	`id` text PRIMARY KEY NOT NULL,
	`item_id` text NOT NULL,
	`batch_id` text NOT NULL,
	`file_name` text NOT NULL,
	`mime_type` text NOT NULL,
	`bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	`width` integer,
	`height` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`item_id`) REFERENCES `items`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `images_item_id_unique` ON `images` (`item_id`);--> statement-breakpoint
CREATE INDEX `images_batch` ON `images` (`batch_id`);--> statement-breakpoint
CREATE TABLE `items` (
	`id` text PRIMARY KEY NOT NULL,
	`batch_id` text NOT NULL,
	`position` integer NOT NULL,
	`image_index` integer NOT NULL,
	`prompt` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`error_kind` text,
	`error_message` text,
	`prompt_tokens` integer,
	`output_tokens` integer,
	`image_tokens` integer,
	`thought_tokens` integer,
	`cost_usd` real,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `items_batch_position` ON `items` (`batch_id`,`position`,`image_index`);--> statement-breakpoint
CREATE INDEX `items_prompt` ON `items` (`prompt`);