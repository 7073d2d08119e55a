console.log("dts");
