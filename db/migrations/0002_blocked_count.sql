ALTER TABLE `batches` ADD `blocked_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE `batches` SET `blocked_count` = (SELECT count(*) FROM `items` WHERE `items`.`batch_id` = `batches`.`id` AND `items`.`status` = 'blocked');
