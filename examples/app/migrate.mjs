// A one-shot task: runs once, exits 0, and stays done (restart: on-failure).
console.log('migrating: 3 steps');
for (const step of [1, 2, 3]) console.log(`step ${step}/3 done`);
