CREATE TABLE `prompts` (
	`batch_id` text NOT NULL,
	`position` integer NOT NULL,
	`text` text NOT NULL,
	PRIMARY KEY(`batch_id`, `position`),
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `workspaces` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `prompts` (`batch_id`, `position`, `text`) SELECT `batch_id`, `position`, min(`prompt`) FROM `items` GROUP BY `batch_id`, `position`;--> statement-breakpoint
INSERT INTO `workspaces` (`id`, `created_at`) SELECT `workspace_id`, min(`created_at`) FROM `batches` GROUP BY `workspace_id`;--> statement-breakpoint
DROP INDEX `items_prompt`;--> statement-breakpoint
ALTER TABLE `items` DROP COLUMN `prompt`;--> statement-breakpoint
ALTER TABLE `batches` ADD `prompt_bytes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE `batches` SET `prompt_bytes` = (SELECT coalesce(sum(length(CAST(`text` AS BLOB))), 0) FROM `prompts` WHERE `prompts`.`batch_id` = `batches`.`id`);