use emscan::kernel::*;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let data = std::fs::read(path).unwrap();
    for lit in [&b"\"error\""[..], b"desc:", b"onDisconnect", b"errorC", b"errorCode"] {
        let p = memchr::arch::all::packedpair::Pair::new(lit).unwrap();
        let (i1, i2) = (p.index1() as usize, p.index2() as usize);
        let mut cand = 0; 
        for w in data.windows(lit.len()) { if w[i1]==lit[i1] && w[i2]==lit[i2] { cand += 1; } }
        let real = memchr::memmem::find_iter(&data, lit).count();
        println!("{} pair ({},{}) '{}' '{}' candidates {} real {}", String::from_utf8_lossy(lit), i1, i2, lit[i1] as char, lit[i2] as char, cand, real);
    }
    let k = AnchorKernel::new(&[b"\"error\"", b"desc:", b"onDisconnect", b"errorC"]);
    for level in [Level::Scalar, Level::Avx2, Level::Avx512] {
    let k = AnchorKernel::with_level(&[b"\"error\"", b"desc:", b"onDisconnect", b"errorC"], level);
    let t = std::time::Instant::now();
    let mut n = 0; let mut nl = 0; for _ in 0..100 { n = 0; nl = k.scan(&data, &mut |_| n += 1); }
    let e = t.elapsed() / 100;
    println!("{:?} hits {n} newlines {nl} in {:?} = {:.2} GB/s", k.level(), e, data.len() as f64 / e.as_secs_f64() / 1e9);
    }
}
