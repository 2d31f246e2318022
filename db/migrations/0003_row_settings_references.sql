CREATE TABLE `reference_images` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`mime_type` text NOT NULL,
	`bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	`width` integer,
	`height` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `reference_images_workspace` ON `reference_images` (`workspace_id`,`sha256`);--> statement-breakpoint
ALTER TABLE `prompts` ADD `model` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `prompts` ADD `aspect_ratio` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `prompts` ADD `image_size` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `prompts` ADD `name` text;--> statement-breakpoint
ALTER TABLE `prompts` ADD `source_row` integer;--> statement-breakpoint
ALTER TABLE `prompts` ADD `template` text;--> statement-breakpoint
ALTER TABLE `prompts` ADD `choices` text;--> statement-breakpoint
ALTER TABLE `prompts` ADD `axis` text;--> statement-breakpoint
ALTER TABLE `prompts` ADD `reference_ids` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
UPDATE `prompts` SET `model` = coalesce((SELECT `model` FROM `batches` WHERE `batches`.`id` = `prompts`.`batch_id`), ''), `aspect_ratio` = coalesce((SELECT json_extract(`settings`, '$.aspectRatio') FROM `batches` WHERE `batches`.`id` = `prompts`.`batch_id`), ''), `image_size` = coalesce((SELECT json_extract(`settings`, '$.imageSize') FROM `batches` WHERE `batches`.`id` = `prompts`.`batch_id`), ''), `source_row` = `position` + 1;