console.log('web app placeholder');
