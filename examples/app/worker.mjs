// A worker that does a job every second and crashes now and then, to show restarts.
let jobs = 0;
console.log(`worker ${process.pid} ready`);
setInterval(() => {
  jobs += 1;
  console.log(`job ${jobs} done`);
  if (Math.random() < 0.15) {
    console.error(`job ${jobs + 1} failed: simulated crash`);
    process.exit(1);
  }
}, 1000);
