select 1000 / {{ div 1000 (var "batches") }} as rows_per_batch
